"""Typed failures that speak to the user.

Every failure Seawall reports descends from :class:`SeawallError`. Each class
carries the exit code the CLI uses and the HTTP status the API uses, so each
edge has exactly one translator::

    SeawallError
    ├── InvalidInput            (65, 422)
    │   ├── UnknownNation
    │   ├── MalformedBody       (65, 400)
    │   └── PayloadTooLarge     (65, 413)
    ├── NotFound                (66, 404)
    │   └── FileMissing
    ├── Conflict                (73, 409)
    ├── AuthenticationFailed    (77, 401)
    │   ├── TokenExpired
    │   ├── TokenRevoked
    │   └── AccountLocked       (77, 423)
    ├── Forbidden               (77, 403)
    ├── DatabaseUnavailable     (69, 503)
    │   └── DatabaseFailed
    ├── NodeNotInitialised      (78, 409)
    ├── ConfigError             (78, 500)
    └── AuditChainBroken        (3, 500)

Messages never contain secrets: passwords, tokens and keys are named, not shown.
docs/errors.md lists every code with its exit code and HTTP status, and a test holds
this tree to the classes below.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class SeawallError(Exception):
    """Base of every failure Seawall reports to a person or a client."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(SeawallError):
    """The request or argument is not acceptable as given."""

    exit_code = 65
    http_status = 422
    code = "invalid_input"


class UnknownNation(InvalidInput):
    """A nation code that is not an ISO 3166-1 country known to this node."""

    code = "unknown_nation"


class MalformedBody(InvalidInput):
    """A request body that cannot be parsed at all (e.g. broken JSON)."""

    http_status = 400
    code = "malformed_body"


class PayloadTooLarge(InvalidInput):
    """A request body over the configured limit."""

    http_status = 413
    code = "payload_too_large"


class NotFound(SeawallError):
    """No such record, or none the caller may see."""

    exit_code = 66
    http_status = 404
    code = "not_found"


class Conflict(SeawallError):
    """The change clashes with a record that already exists."""

    exit_code = 73
    http_status = 409
    code = "conflict"


class AuthenticationFailed(SeawallError):
    """The caller could not be identified."""

    exit_code = 77
    http_status = 401
    code = "authentication_failed"


class TokenExpired(AuthenticationFailed):
    """An API token past its expiry."""

    code = "token_expired"


class TokenRevoked(AuthenticationFailed):
    """An API token that was revoked."""

    code = "token_revoked"


class AccountLocked(AuthenticationFailed):
    """Too many failed logins; the account is locked for a while."""

    http_status = 423
    code = "account_locked"


class Forbidden(SeawallError):
    """The caller is known but may not do this."""

    exit_code = 77
    http_status = 403
    code = "forbidden"


class FileMissing(NotFound):
    """A file given as input does not exist."""

    code = "file_missing"


class DatabaseUnavailable(SeawallError):
    """The configured database cannot be reached."""

    exit_code = 69
    http_status = 503
    code = "database_unavailable"


class DatabaseFailed(DatabaseUnavailable):
    """The database failed mid-command: the connection dropped, or the schema is damaged."""

    code = "database_failed"


class NodeNotInitialised(SeawallError):
    """The node home has not been set up with ``seawall init``."""

    exit_code = 78
    http_status = 409
    code = "node_not_initialised"


class ConfigError(SeawallError):
    """A setting has a value Seawall cannot use."""

    exit_code = 78
    http_status = 500
    code = "config_error"


class AuditChainBroken(SeawallError):
    """The audit log was edited or entries were removed."""

    exit_code = 3
    http_status = 500
    code = "audit_chain_broken"


Choice = TypeVar("Choice", bound=StrEnum)


def parse_choice(
    kind: type[Choice], what: str, value: str, error: type[InvalidInput] = InvalidInput
) -> Choice:
    """``value`` as one of ``kind``'s values, or ``error`` naming the ones there are.

    Case and surrounding spaces do not matter, and ``private-sector`` or ``Private Sector``
    name the value ``private_sector``.
    """
    cleaned = value.strip().lower()
    for candidate in (cleaned, cleaned.replace("-", "_").replace(" ", "_")):
        try:
            return kind(candidate)
        except ValueError:
            continue
    choices = ", ".join(member.value for member in kind)
    raise error(f"unknown {what} {value!r}: choose one of {choices}")
