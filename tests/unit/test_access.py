"""Roles, scopes and deny-by-default."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.core.access import (
    ROLE_PERMS,
    Perm,
    Principal,
    Role,
    parse_role,
    parse_scopes,
    require,
    require_nation,
)
from seawall.errors import Forbidden, InvalidInput, NotFound


def test_viewer_cannot_manage_users() -> None:
    viewer = Principal("v", "JM", Role.VIEWER)
    with pytest.raises(Forbidden, match="cannot manage users"):
        require(viewer, Perm.USERS_MANAGE)


def test_each_role_holds_only_its_permissions() -> None:
    assert Perm.INTEL_WRITE in ROLE_PERMS[Role.ANALYST]
    assert Perm.EMBASSY_OPERATE not in ROLE_PERMS[Role.ANALYST]
    assert Perm.ASSESS_RATE in ROLE_PERMS[Role.ASSESSOR]
    assert Perm.EMBASSY_OPERATE in ROLE_PERMS[Role.CUSTODIAN]
    assert ROLE_PERMS[Role.ADMIN] == frozenset(Perm)


@given(role=st.sampled_from(list(Role)), scopes=st.frozensets(st.sampled_from(list(Perm))))
def test_scopes_only_ever_narrow_a_role(role: Role, scopes: frozenset[Perm]) -> None:
    who = Principal("u", "JM", role, scopes=scopes)
    assert who.permissions <= ROLE_PERMS[role]
    assert who.permissions <= scopes


def test_other_nations_records_look_absent() -> None:
    jm = Principal("a", "JM", Role.ADMIN)
    with pytest.raises(NotFound):
        require_nation(jm, "TT", "user 'x'")
    require_nation(jm, "JM", "user 'x'")


def test_unknown_role_and_scope_are_named() -> None:
    with pytest.raises(InvalidInput, match="unknown role 'wizard'"):
        parse_role("wizard")
    with pytest.raises(InvalidInput, match="unknown scope 'everything'"):
        parse_scopes(["everything"])
    assert parse_scopes([]) == frozenset(Perm)
