"""A nation's own work on its cases, read from the node: the assignee and the tasks.

This work never travels: it is not STIX, and partners see only the case, its notes and its
links. Each reader sees their own nation's work, so a node that hosts several nations' users
keeps each nation's apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from seawall.core.context import Ctx
from seawall.db.models.core import User
from seawall.db.models.intel_cases import IntelCaseAssignment, IntelCaseTask
from seawall.intel.validation import format_timestamp


class TaskState(StrEnum):
    """Whether a task still needs doing."""

    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class Person:
    """A user of the reader's nation, by username and the name they go by."""

    username: str
    name: str

    @classmethod
    def of(cls, user: User) -> Person:
        """A user row as a person: the display name, or the username when there is none."""
        return cls(user.username, user.display_name or user.username)


@dataclass(frozen=True)
class Task:
    """One task on a case, in its place (``number``, from 1) in the nation's list."""

    id: str
    number: int
    title: str
    state: TaskState
    assignee: Person | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The task for scripts."""
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "state": self.state.value,
            "assignee": self.assignee.username if self.assignee else None,
            "created_by": self.created_by,
            "created": format_timestamp(self.created_at),
            "updated": format_timestamp(self.updated_at),
        }


@dataclass
class Work:
    """The reader's nation's work on one case."""

    assignee: Person | None = None
    tasks: list[Task] = field(default_factory=list)

    @property
    def open_tasks(self) -> int:
        """How many tasks are still open."""
        return sum(1 for t in self.tasks if t.state is TaskState.OPEN)


def task_rows(ctx: Ctx, case_id: str) -> list[IntelCaseTask]:
    """The caller's nation's task rows of a case, in order."""
    stmt = (
        select(IntelCaseTask)
        .where(IntelCaseTask.case_id == case_id, IntelCaseTask.nation == ctx.who.nation)
        .order_by(IntelCaseTask.position, IntelCaseTask.id)
    )
    return list(ctx.db.scalars(stmt))


def load_work(ctx: Ctx, case_ids: list[str]) -> dict[str, Work]:
    """The caller's nation's work on each case (a few queries, however many cases)."""
    work: dict[str, Work] = defaultdict(Work)
    if not case_ids:
        return work
    nation = ctx.who.nation
    people: dict[str, Person] = {}
    assigned: list[IntelCaseAssignment] = []
    rows: list[IntelCaseTask] = []
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        assigned += ctx.db.scalars(
            select(IntelCaseAssignment).where(
                IntelCaseAssignment.case_id.in_(chunk), IntelCaseAssignment.nation == nation
            )
        )
        rows += ctx.db.scalars(
            select(IntelCaseTask)
            .where(IntelCaseTask.case_id.in_(chunk), IntelCaseTask.nation == nation)
            .order_by(IntelCaseTask.position, IntelCaseTask.id)
        )
    user_ids = {a.user_id for a in assigned} | {r.assignee_id for r in rows if r.assignee_id}
    if user_ids:
        users = ctx.db.scalars(select(User).where(User.id.in_(sorted(user_ids))))
        people = {u.id: Person.of(u) for u in users}
    for a in assigned:
        work[a.case_id].assignee = people.get(a.user_id)
    for row in rows:
        tasks = work[row.case_id].tasks
        tasks.append(
            Task(
                id=row.id,
                number=len(tasks) + 1,
                title=row.title,
                state=TaskState(row.state) if row.state in set(TaskState) else TaskState.OPEN,
                assignee=people.get(row.assignee_id) if row.assignee_id else None,
                created_by=row.created_by,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )
    return work


def local_names(ctx: Ctx, usernames: list[str]) -> dict[str, str]:
    """The display names of the caller's nation's users among ``usernames`` (others keep the
    name their nation wrote)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    users = ctx.db.scalars(
        select(User).where(User.username.in_(wanted), User.nation == ctx.who.nation)
    )
    return {u.username: u.display_name for u in users if u.display_name}
