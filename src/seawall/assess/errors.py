"""Failures of the maturity pillar.

::

    InvalidInput
    ├── PackInvalid            a framework or content pack that does not validate
    ├── ContentHashMismatch    a content pack whose sha256 is not the one expected
    ├── UnknownFramework       no framework pack with that id
    ├── UnknownFactor          a factor id the framework does not have
    ├── UnknownStakeholderGroup
    ├── StageOutOfRange        a stage outside the framework's scale (1-5 for the CMM)
    ├── WrongFrameworkKind     e.g. a rating round on an index framework
    └── IndexCsvInvalid        an index CSV with missing or non-numeric scores
    NotFound
    ├── RoundNotFound
    ├── IndexEditionNotFound
    └── RoadmapItemNotFound
    Conflict
    ├── RoundExists
    ├── RoundPublished         a change to a round already published
    ├── NothingAgreed          publishing a round with no agreed stage
    └── EditionExists
    Forbidden
    └── ConsentMissing         publishing without the nation's consent
"""

from __future__ import annotations

from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound


class PackInvalid(InvalidInput):
    """A framework or content pack that does not validate."""

    code = "pack_invalid"


class ContentHashMismatch(InvalidInput):
    """A content pack whose sha256 does not match the expected one."""

    code = "content_hash_mismatch"


class UnknownFramework(InvalidInput):
    """No framework pack with that id is shipped or imported."""

    code = "unknown_framework"


class UnknownFactor(InvalidInput):
    """A factor id the framework does not define."""

    code = "unknown_factor"


class UnknownStakeholderGroup(InvalidInput):
    """A stakeholder group outside the six the CMM process uses."""

    code = "unknown_stakeholder_group"


class StageOutOfRange(InvalidInput):
    """A stage number outside the framework's scale."""

    code = "stage_out_of_range"


class WrongFrameworkKind(InvalidInput):
    """An operation that needs another kind of framework (cmm/custom vs index)."""

    code = "wrong_framework_kind"


class IndexCsvInvalid(InvalidInput):
    """An index CSV with a missing column, a missing or non-numeric score, or no source."""

    code = "index_csv_invalid"


class RoundNotFound(NotFound):
    """No assessment round with that id visible to the caller."""

    code = "round_not_found"


class IndexEditionNotFound(NotFound):
    """No index edition with that id."""

    code = "index_edition_not_found"


class RoadmapItemNotFound(NotFound):
    """No roadmap item with that id visible to the caller."""

    code = "roadmap_item_not_found"


class RoundExists(Conflict):
    """A round for that nation, framework and year already exists."""

    code = "round_exists"


class RoundPublished(Conflict):
    """The round is published; its ratings and consensus are frozen."""

    code = "round_published"


class NothingAgreed(Conflict):
    """A round with no agreed stage cannot be published."""

    code = "nothing_agreed"


class EditionExists(Conflict):
    """An index edition with that id is already imported."""

    code = "edition_exists"


class ConsentMissing(Forbidden):
    """The nation has not consented to publish its assessments to a region."""

    code = "consent_missing"
