"""A nation's work on a case: assigning it, and its tasks (add, complete, reopen, move,
delete). Every change is audited; none of it travels to partners (:mod:`.local`)."""

from __future__ import annotations

from sqlalchemy import select

from seawall.core.access import ROLE_PERMS, Perm, Role, require
from seawall.core.context import Ctx
from seawall.db.models.core import User
from seawall.db.models.intel_cases import IntelCaseAssignment, IntelCaseTask
from seawall.errors import InvalidInput
from seawall.intel.cases.local import TaskState, task_rows
from seawall.intel.cases.reading import Case, build_case, find_case
from seawall.intel.errors import CaseTaskNotFound, UnknownAssignee

TITLE_MAX = 200


def assignable_user(ctx: Ctx, username: str) -> User:
    """An enabled user of the caller's nation who may work cases (``intel.write``), by
    username; a partner's sync account or another nation's user is nobody here."""
    name = username.strip()
    user = ctx.db.scalar(
        select(User).where(
            User.username == name, User.nation == ctx.who.nation, User.partner_id.is_(None)
        )
    )
    role = Role(user.role) if user is not None and user.role in set(Role) else None
    if user is None or user.disabled or role is None or Perm.INTEL_WRITE not in ROLE_PERMS[role]:
        raise UnknownAssignee(
            f"no user {name!r} of {ctx.who.nation} who may work cases: "
            "give an enabled analyst's or admin's username"
        )
    return user


def assignable_users(ctx: Ctx) -> list[User]:
    """Every user a case or task of the caller's nation may be assigned to, by username."""
    require(ctx.who, Perm.INTEL_READ)
    writers = [r.value for r, perms in ROLE_PERMS.items() if Perm.INTEL_WRITE in perms]
    stmt = (
        select(User)
        .where(
            User.nation == ctx.who.nation,
            User.partner_id.is_(None),
            User.disabled.is_(False),
            User.role.in_(writers),
        )
        .order_by(User.username)
    )
    return list(ctx.db.scalars(stmt))


def assign(ctx: Ctx, ref: str, username: str | None) -> Case:
    """Assign the case, for the caller's nation, to one of its users (``None``: nobody)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    key = {"case_id": found.id, "nation": ctx.who.nation}
    row = ctx.db.get(IntelCaseAssignment, key)
    if username is None or not username.strip():
        if row is not None:
            ctx.db.delete(row)
            ctx.record("intel.case.assigned", found.id, assignee=None)
        return build_case(ctx, found)
    user = assignable_user(ctx, username)
    if row is None:
        row = IntelCaseAssignment(**key, user_id=user.id)
        ctx.db.add(row)
    elif row.user_id == user.id:
        return build_case(ctx, found)
    row.user_id = user.id
    row.assigned_by = ctx.who.username
    row.assigned_at = ctx.now()
    ctx.db.flush()
    ctx.record("intel.case.assigned", found.id, assignee=user.username)
    return build_case(ctx, found)


def _task(ctx: Ctx, case_id: str, task_ref: str) -> tuple[IntelCaseTask, list[IntelCaseTask]]:
    """A task of the caller's nation by its number (from 1) or id, and the whole list."""
    rows = task_rows(ctx, case_id)
    wanted = task_ref.strip()
    # Digits checked, and counted, before int(): past 4,300 digits int() raises.
    if wanted.isascii() and wanted.isdigit() and len(wanted) < 10 and 0 < int(wanted) <= len(rows):
        return rows[int(wanted) - 1], rows
    for row in rows:
        if row.id == wanted:
            return row, rows
    given = "this case has no tasks" if not rows else f"give its number (1 to {len(rows)}) or id"
    raise CaseTaskNotFound(f"no task {task_ref[:40]!r} on this case: {given}")


def add_task(ctx: Ctx, ref: str, title: str, assignee: str | None = None) -> Case:
    """Add a task at the end of the caller's nation's list for the case, open."""
    require(ctx.who, Perm.INTEL_WRITE)
    name = " ".join(title.split())
    if not name:
        raise InvalidInput("a task needs a title: say what is to be done")
    if len(name) > TITLE_MAX:
        raise InvalidInput(f"a task's title is at most {TITLE_MAX} characters")
    found = find_case(ctx, ref)
    user = assignable_user(ctx, assignee) if assignee and assignee.strip() else None
    rows = task_rows(ctx, found.id)
    now = ctx.now()
    row = IntelCaseTask(
        id=str(ctx.ids()),
        case_id=found.id,
        nation=ctx.who.nation,
        position=(rows[-1].position + 1) if rows else 1,
        title=name,
        state=TaskState.OPEN.value,
        assignee_id=user.id if user else None,
        created_by=ctx.who.username,
        created_at=now,
        updated_at=now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    ctx.record(
        "intel.case.task.added",
        found.id,
        task=row.id,
        title=name,
        assignee=user.username if user else None,
    )
    return build_case(ctx, found)


def set_task_state(ctx: Ctx, ref: str, task_ref: str, state: TaskState) -> Case:
    """Complete a task (``done``) or reopen it (``open``)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    row, _rows = _task(ctx, found.id, task_ref)
    if row.state != state.value:
        row.state = state.value
        row.updated_at = ctx.now()
        ctx.db.flush()
        action = "completed" if state is TaskState.DONE else "reopened"
        ctx.record(f"intel.case.task.{action}", found.id, task=row.id, title=row.title)
    return build_case(ctx, found)


def assign_task(ctx: Ctx, ref: str, task_ref: str, username: str | None) -> Case:
    """Give a task to a user of the caller's nation (``None``: to nobody)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    row, _rows = _task(ctx, found.id, task_ref)
    user = assignable_user(ctx, username) if username and username.strip() else None
    if row.assignee_id != (user.id if user else None):
        row.assignee_id = user.id if user else None
        row.updated_at = ctx.now()
        ctx.db.flush()
        ctx.record(
            "intel.case.task.assigned",
            found.id,
            task=row.id,
            assignee=user.username if user else None,
        )
    return build_case(ctx, found)


def move_task(ctx: Ctx, ref: str, task_ref: str, number: int) -> Case:
    """Put a task at place ``number`` (from 1) in the list; the others keep their order."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    row, rows = _task(ctx, found.id, task_ref)
    if not 0 < number <= len(rows):
        raise InvalidInput(f"a task's place is 1 to {len(rows)}")
    ordered = [r for r in rows if r is not row]
    ordered.insert(number - 1, row)
    if ordered != rows:
        for position, each in enumerate(ordered, start=1):
            each.position = position
        ctx.db.flush()
        ctx.record("intel.case.task.moved", found.id, task=row.id, number=number)
    return build_case(ctx, found)


def shift_task(ctx: Ctx, ref: str, task_ref: str, offset: int) -> Case:
    """Move a task ``offset`` places down the list (up when negative), as far as it goes."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    row, rows = _task(ctx, found.id, task_ref)
    number = rows.index(row) + 1
    return move_task(ctx, ref, row.id, max(1, min(number + offset, len(rows))))


def delete_task(ctx: Ctx, ref: str, task_ref: str) -> Case:
    """Delete a task from the caller's nation's list (the audit log keeps its title)."""
    require(ctx.who, Perm.INTEL_WRITE)
    found = find_case(ctx, ref)
    row, _rows = _task(ctx, found.id, task_ref)
    task_id, title = row.id, row.title
    ctx.db.delete(row)
    ctx.db.flush()
    ctx.record("intel.case.task.deleted", found.id, task=task_id, title=title)
    return build_case(ctx, found)
