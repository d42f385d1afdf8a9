"""Cross-border incident cases, kept as STIX 2.1 in the store so they travel like any intel.

A case is an ``incident`` with the OASIS Incident Core Extension (``investigation_status``
new, open or closed; ``determination`` suspected, confirmed or false-positive;
``criticality`` for its severity). What is known about it hangs off it as ordinary objects,
each made by the nation that knows it:

- a link to an object the linking user may read: a ``relationship`` (``related-to``) from
  the incident to an SDO or SCO (an indicator, a malware, a report), or, for a sighting or
  another object a relationship may not name (STIX 2.1 §5.2), a ``note`` whose
  ``object_refs`` name the incident and that object;
- a ``note`` (``object_refs`` naming the incident alone) for each entry of the timeline.

Because these are STIX objects in a collection, TLP, audiences, TAXII, sync between nations,
exports and offline bundles apply to a case exactly as to everything else. A partner that
has the incident adds its own notes and links in its own collections, and they come back
by sync. Only the nation that opened a case may version the incident (its status and
severity), as STIX says only the creator may (§3.6); everyone the case reaches may add to it.

A link is marked with the stricter of the case's marking and its target's, and a note with
the case's marking or a stricter one, so adding to a case never widens what it refers to.
A link holds the target's id and the linking user's reason, never words of the target (its
name, pattern, value or description): the case's collection may reach people the target's
does not, named recipients of RED included. Each reader sees a target's name only if they
may read the target themselves (:func:`show_case` reads it with their rights).

Each nation's own work on a case, its assignee and its tasks, stays on the node
(:mod:`.local`, :mod:`.work`): it is not STIX and never reaches a partner.

Modules: :mod:`.vocab` (the words), :mod:`.reading` (finding and showing),
:mod:`.writing` (the STIX changes), :mod:`.linking` (linking by search), :mod:`.work`
(assignee and tasks), :mod:`.listing` (filters, sort and pages).
"""

from seawall.intel.cases.linking import Candidate, choose, link_by_search, search_linkable
from seawall.intel.cases.listing import CaseQuery, Sort, find_cases, parse_sort
from seawall.intel.cases.local import Person, Task, TaskState
from seawall.intel.cases.reading import (
    Case,
    Entry,
    object_names,
    open_case_titles,
    show_case,
)
from seawall.intel.cases.vocab import (
    INCIDENT_CORE,
    LINKED,
    MIN_REF,
    NOT_RELATABLE,
    SUPPORTS,
    Determination,
    Severity,
    Status,
    parse_determination,
    parse_severity,
    parse_status,
)
from seawall.intel.cases.work import (
    add_task,
    assign,
    assign_task,
    assignable_users,
    delete_task,
    move_task,
    set_task_state,
    shift_task,
)
from seawall.intel.cases.writing import add_note, link_objects, open_case, set_status

__all__ = [
    "INCIDENT_CORE",
    "LINKED",
    "MIN_REF",
    "NOT_RELATABLE",
    "SUPPORTS",
    "Candidate",
    "Case",
    "CaseQuery",
    "Determination",
    "Entry",
    "Person",
    "Severity",
    "Sort",
    "Status",
    "Task",
    "TaskState",
    "add_note",
    "add_task",
    "assign",
    "assign_task",
    "assignable_users",
    "choose",
    "delete_task",
    "find_cases",
    "link_by_search",
    "link_objects",
    "move_task",
    "object_names",
    "open_case",
    "open_case_titles",
    "parse_determination",
    "parse_severity",
    "parse_sort",
    "parse_status",
    "search_linkable",
    "set_status",
    "set_task_state",
    "shift_task",
    "show_case",
]
