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
    ├── IndexCsvInvalid        an index CSV with missing or non-numeric scores
    ├── RoundEntryInvalid      a round entered at a hub from a CSV or JSON file with a bad row
    ├── NoSharedGroup          a round package for no group the hub holds with that nation
    ├── ParticipantInvalid     inviting someone who is not an assessor of the round's nation
    └── ReasonRequired         agreeing a stage no group rated, without saying why
    NotFound
    ├── RoundNotFound
    ├── IndexEditionNotFound
    ├── RoadmapItemNotFound
    └── ParticipantNotFound    removing someone the round has not invited
    Conflict
    ├── RoundExists
    ├── RoundPublished         a change to a round already published
    ├── NothingAgreed          publishing a round with no agreed stage
    ├── RoundIncomplete        publishing a round not every factor of which is agreed
    ├── EditionExists
    ├── RoundNotPublished      sending a round to a hub before it is published
    └── SignedRoundHeld        entering at a hub a round the nation's own node signed
    Forbidden
    ├── ConsentMissing         publishing without the nation's consent
    ├── ForeignRound           a round package signed by another nation's node
    ├── NotYourGroup           rating for a group one is not invited to rate for
    ├── NotFacilitator         agreeing a stage without leading or facilitating the round
    └── NotRoundLead           inviting, revealing or handing over without leading the round
"""

from __future__ import annotations

from seawall.errors import Conflict, Forbidden, InvalidInput, NotFound


class PackInvalid(InvalidInput):
    """A framework or content pack does not validate."""

    code = "pack_invalid"
    remedy = "Fix the field the message names; save the pack as UTF-8 YAML."


class ContentHashMismatch(InvalidInput):
    """A content pack's SHA-256 is not the one expected, or none was given."""

    code = "content_hash_mismatch"
    remedy = "Pass the SHA-256 published with your licensed copy."


class UnknownFramework(InvalidInput):
    """No framework pack with that id is shipped or imported."""

    code = "unknown_framework"
    remedy = "Choose one of the ids the message lists."


class UnknownFactor(InvalidInput):
    """A factor id the framework does not define."""

    code = "unknown_factor"
    remedy = "Use a factor id from the framework (``seawall assess frameworks``)."


class UnknownStakeholderGroup(InvalidInput):
    """A stakeholder group outside the six the CMM process uses."""

    code = "unknown_stakeholder_group"
    remedy = "Choose one of the groups the message lists."


class StageOutOfRange(InvalidInput):
    """A stage outside the framework's scale (1-5 for the CMM)."""

    code = "stage_out_of_range"
    remedy = "Give a stage on the scale."


class WrongFrameworkKind(InvalidInput):
    """An operation needs another kind of framework (a rating round on an index)."""

    code = "wrong_framework_kind"
    remedy = "Use a ``cmm`` or ``custom`` framework for rounds, an index for index imports."


class IndexCsvInvalid(InvalidInput):
    """An index CSV lacks a column, a score, a numeric value or a source."""

    code = "index_csv_invalid"
    remedy = "Fix the row or header named; give ``--source`` when the file has no source column."


class RoundEntryInvalid(InvalidInput):
    """A round entered at a hub from a CSV or JSON file has a bad header, row, cell or field
    (a missing column or source, a year that is no number, a factor given twice). Nothing in
    the file is stored."""

    code = "round_entry_invalid"
    remedy = (
        "Fix the row and column (or document and field) the message names; the formats are in "
        'docs/assess.md, section "Entering rounds at the hub".'
    )


class RoundNotFound(NotFound):
    """No assessment round with that id visible to the caller."""

    code = "round_not_found"
    remedy = "List rounds with ``seawall assess rounds``."


class IndexEditionNotFound(NotFound):
    """No index edition with that id."""

    code = "index_edition_not_found"
    remedy = "List the imported editions."


class RoadmapItemNotFound(NotFound):
    """No roadmap item with that id visible to the caller."""

    code = "roadmap_item_not_found"
    remedy = "Use an id from the round's gaps page or ``seawall assess roadmap``."


class RoundExists(Conflict):
    """A round for that nation, framework and year already exists."""

    code = "round_exists"
    remedy = "Use the existing round, or another year."


class RoundPublished(Conflict):
    """A change to a published round; its ratings and consensus are frozen."""

    code = "round_published"
    remedy = "Open a new round to assess again."


class NothingAgreed(Conflict):
    """Publishing a round with no agreed stage."""

    code = "nothing_agreed"
    remedy = "Record consensus first."


class RoundIncomplete(Conflict):
    """Publishing a round that does not agree every factor of its framework, without saying
    it is partial."""

    code = "round_incomplete"
    remedy = (
        "Agree the factors the message names, or publish it as partial "
        "(``seawall assess round publish ROUND --partial``); a partial round says so wherever "
        "it is used, and regional statements leave it out."
    )


class EditionExists(Conflict):
    """An index edition with that id is already imported."""

    code = "edition_exists"
    remedy = "Choose another edition id."


class ConsentMissing(Forbidden):
    """Publishing assessments to a region without the nation's consent."""

    code = "consent_missing"
    remedy = "Record the nation's consent first."


class NoSharedGroup(InvalidInput):
    """A round package names no region group that this hub holds with the round's nation as a
    member. Nothing is stored."""

    code = "no_shared_group"
    remedy = (
        "Ask the nation to publish to a group this hub serves, or add the nation to the group here."
    )


class SignedRoundHeld(Conflict):
    """Entering at a hub a round of a nation, year and framework that the hub holds as signed
    by that nation's own node: the nation's word stands. Nothing in the file is stored."""

    code = "signed_round_held"
    remedy = (
        "Leave that round out of the file; to change it, ask the nation's node for a newer "
        "package (`seawall assess round send`)."
    )


class RoundNotPublished(Conflict):
    """Sending a round to a hub (export, withdrawal) before it is published."""

    code = "round_not_published"
    remedy = "Agree the factors and publish the round first (`seawall assess round publish`)."


class ForeignRound(Forbidden):
    """A round package whose round belongs to another nation than the node that signed it: a
    node publishes only its own nation's rounds. Nothing is stored."""

    code = "foreign_round"
    remedy = "Ask that nation's own node for the package."


class ParticipantInvalid(InvalidInput):
    """Inviting to a round (or handing its lead to) someone who is not an enabled assessor of
    the round's nation, or who already rates for another group in it."""

    code = "participant_invalid"
    remedy = (
        "Name users of the round's nation whose role may rate (assessor or admin); a rater "
        "rates for one group of a round."
    )


class ReasonRequired(InvalidInput):
    """Agreeing a stage for a factor that no invited group has rated, without a reason."""

    code = "reason_required"
    remedy = "Say why the stage is agreed without ratings (`--reason`); it is shown with it."


class ParticipantNotFound(NotFound):
    """Removing from a round someone it has not invited for that group."""

    code = "participant_not_found"
    remedy = "List the round's participants (`seawall assess round participants ROUND`)."


class NotYourGroup(Forbidden):
    """Rating, in a round with invited groups, for a group one is not invited to rate for."""

    code = "not_your_group"
    remedy = "Rate for your own group, or ask the round's lead to invite you."


class NotFacilitator(Forbidden):
    """Recording an agreed stage in a round with invited groups without being its lead or
    one of its facilitators."""

    code = "not_facilitator"
    remedy = "Ask the round's lead or a facilitator to record the agreed stage."


class NotRoundLead(Forbidden):
    """Inviting groups, revealing stages or handing over the lead of a round without being its
    lead (or, for the hand-over and invitations, an admin of its nation)."""

    code = "not_round_lead"
    remedy = "Ask the round's lead, or an admin of the nation."
