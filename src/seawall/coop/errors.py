"""Failures of programmes, partner organisations, their files and their packages.

::

    InvalidInput
    ├── ProgrammeInvalid       a programme with a field that is missing or not acceptable
    ├── OrganisationInvalid    an organisation with a field that is missing or not acceptable
    └── ImportRowInvalid       a row of an import file with a bad field (names row and column)
    NotFound
    ├── ProgrammeNotFound
    └── OrganisationNotFound
    Conflict
    ├── ProgrammeExists        a programme reference already used by the nation
    ├── OrganisationExists     an organisation name already used by the nation
    └── ReceivedRecordReadOnly changing a record another nation's node sent
    Forbidden
    └── ForeignRecord          a package holding records of another nation than its signer's
"""

from __future__ import annotations

from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound


class ProgrammeInvalid(InvalidInput):
    """A programme with a field that is missing or not acceptable: an unknown status or
    factor, a nation that is no nation, an end before the start, a budget without a currency."""

    code = "programme_invalid"
    remedy = "Correct the field the message names; docs/coop.md lists each field's values."


class OrganisationInvalid(InvalidInput):
    """An organisation with a field that is missing or not acceptable (an unknown kind, a
    website that is no http(s) URL)."""

    code = "organisation_invalid"
    remedy = "Correct the field the message names; docs/coop.md lists the kinds."


class ImportRowInvalid(InvalidInput):
    """A row of a CSV or JSON file of programmes or organisations with a bad field, or a file
    that is not of the documented shape. Nothing of the file is imported."""

    code = "coop_import_row_invalid"
    remedy = "Correct the row and column the message names and import the whole file again."


class ProgrammeNotFound(NotFound):
    """No programme with that reference or id visible to the caller."""

    code = "programme_not_found"
    remedy = "List them with ``seawall coop programme list``."


class OrganisationNotFound(NotFound):
    """No partner organisation with that name, acronym or id visible to the caller."""

    code = "coop_organisation_not_found"
    remedy = "List them with ``seawall coop org list``."


class ProgrammeExists(Conflict):
    """The nation already has a programme with that reference."""

    code = "programme_exists"
    remedy = "Choose another reference, or import the file to update the programme."


class OrganisationExists(Conflict):
    """The nation already has a partner organisation with that name."""

    code = "coop_organisation_exists"
    remedy = "Choose another name, or import the file to update the organisation."


class ReceivedRecordReadOnly(Conflict):
    """A change to a record another nation's node sent to this hub: only its nation changes it,
    and its next package replaces it here."""

    code = "received_record_read_only"
    remedy = "Ask the nation that sent it to change it on its own node."


class ForeignRecord(Forbidden):
    """A cooperation package holding a record of another nation than the node that signed it:
    a node shares only its own nation's records. Nothing is stored."""

    code = "foreign_coop_record"
    remedy = "Ask that nation's own node for the package."
