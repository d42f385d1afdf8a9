"""Two banks of one nation, each with an analyst signed in on the web and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from seawall.core import organisations, tokens, users, websessions
from seawall.core.access import Principal
from seawall.core.context import Ctx


@dataclass(frozen=True)
class TwoBanks:
    """Bank A's analyst "x" and Bank B's analyst "y": their orgs, principals and sign-ins."""

    orgs: dict[str, str]  # "a" / "b" -> organisation id
    principals: dict[str, Principal]  # "x" / "y"
    cookies: dict[str, str]  # a web session cookie each
    bearer: dict[str, str]  # an API token each


def two_banks(ctx: Ctx) -> TwoBanks:
    """Add Bank A and Bank B (data custodians) and analysts x-analyst (A) and y-analyst (B)."""
    orgs = {
        name: organisations.add_org(ctx, f"Bank {name.upper()}", "data_custodian").id
        for name in ("a", "b")
    }
    principals: dict[str, Principal] = {}
    cookies: dict[str, str] = {}
    bearer: dict[str, str] = {}
    for who, org in (("x", orgs["a"]), ("y", orgs["b"])):
        user = users.add_user(ctx, f"{who}-analyst", "analyst", org=org)
        principals[who] = users.principal_of(user)
        cookies[who] = websessions.open_session(ctx, user, timedelta(hours=1)).cookie
        bearer[who] = tokens.create_token(ctx, "t", [], username=user.username).value
    return TwoBanks(orgs, principals, cookies, bearer)
