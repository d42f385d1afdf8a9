"""Typed failures that speak to the user.

Every failure Seawall reports descends from :class:`SeawallError`. Each class
carries the exit code the CLI uses and the HTTP status the API uses, so each
edge has exactly one translator::

    SeawallError
    ├── InvalidInput            (65, 422)
    │   ├── UnknownNation
    │   ├── MalformedBody       (65, 400)
    │   ├── BadPageCursor       (65, 400)
    │   ├── AmbiguousId
    │   └── PayloadTooLarge     (65, 413)
    ├── NotFound                (66, 404)
    │   └── FileMissing
    ├── Conflict                (73, 409)
    │   └── PortUnavailable
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
The first paragraph of each class's docstring says when it is raised, and its ``remedy``
what to do; ``make docs`` (:mod:`seawall.reference`) writes them, with the code, exit code
and HTTP status, into docs/errors.md. Tests hold that file and this tree to the classes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class SeawallError(Exception):
    """The base of every failure; raised on its own only where no narrower class fits."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "error"
    remedy: str = "Read the message; it names the cause."

    def __init__(self, message: str, *, cli: str = "", web: str = "") -> None:
        """``message`` says what failed; ``cli`` and ``web`` say where to look next, each for
        its edge (a command, a page), and are added to it after ``"; "``. The CLI and the API
        answer :attr:`message`; a web page answers :attr:`web_message`, which never names a
        command."""
        self.message = f"{message}; {cli}" if cli else message
        self.web_message = f"{message}; {web}" if web else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidInput(SeawallError):
    """A request, argument or file is not acceptable as given (a short password, an unknown role,
    an unwritable output)."""

    exit_code = 65
    http_status = 422
    code = "invalid_input"
    remedy = "Correct the value the message names and try again."


class UnknownNation(InvalidInput):
    """A nation code or name is not an ISO 3166-1 country this node knows."""

    code = "unknown_nation"
    remedy = "Use a code such as ``JM`` or ``JAM``, or the English name (``Jamaica``)."


class MalformedBody(InvalidInput):
    """A request body cannot be parsed at all (broken JSON)."""

    http_status = 400
    code = "malformed_body"
    remedy = "Send valid JSON of the documented shape."


class BadPageCursor(InvalidInput):
    """A list's ``cursor`` is not one this node issued for that list and sort order."""

    http_status = 400
    code = "bad_page_cursor"
    remedy = "Start again from the first page, without ``cursor``."


class AmbiguousId(InvalidInput):
    """An id prefix matches more than one record; the message lists the candidates."""

    code = "ambiguous_id"
    remedy = "Give more characters of the id, or the whole id."


class PayloadTooLarge(InvalidInput):
    """A request body is over ``SEAWALL_MAX_BODY_BYTES`` (TAXII's ``max_content_length``)."""

    http_status = 413
    code = "payload_too_large"
    remedy = "Send fewer objects per request, or import the file with the CLI."


class NotFound(SeawallError):
    """No such record, or none the caller may see (another nation's records look absent)."""

    exit_code = 66
    http_status = 404
    code = "not_found"
    remedy = "Check the name or id; list what there is."


class Conflict(SeawallError):
    """A change clashes with a record that already exists (a user name, a node initialised for
    another nation)."""

    exit_code = 73
    http_status = 409
    code = "conflict"
    remedy = "Choose another name, or change the existing record."


class PortUnavailable(Conflict):
    """``seawall serve`` cannot listen on its address: another process holds the port (named
    with its pid), the port needs privileges, or the address is not this machine's."""

    code = "port_unavailable"
    remedy = "Stop the process named, or serve on another port with ``--port``."


class AuthenticationFailed(SeawallError):
    """The caller could not be identified: no credentials, a malformed header or token, an unknown
    token, a refused sign-in."""

    exit_code = 77
    http_status = 401
    code = "authentication_failed"
    remedy = "Send ``Authorization: Bearer <token>`` (``seawall token create``), or sign in again."


class TokenExpired(AuthenticationFailed):
    """An API token past its expiry."""

    code = "token_expired"
    remedy = "Create a new token."


class TokenRevoked(AuthenticationFailed):
    """An API token that was revoked."""

    code = "token_revoked"
    remedy = "Create a new token."


class AccountLocked(AuthenticationFailed):
    """An account locked against sign-in. Sign-in itself answers every refusal with
    ``authentication_failed`` and backs the account off instead (docs/security.md)."""

    http_status = 423
    code = "account_locked"
    remedy = "Wait, or ask an admin."


class Forbidden(SeawallError):
    """The caller is known but its role, scopes or nation do not allow this."""

    exit_code = 77
    http_status = 403
    code = "forbidden"
    remedy = "Ask an admin for the role or a token with the scope."

    def __init__(
        self, message: str, *, cli: str = "", web: str = "", role: str = "", action: str = ""
    ) -> None:
        """``role`` and ``action`` (an English catalog phrase: "read the audit log") are set
        when a role lacks a permission, so a page can say so in its own language."""
        super().__init__(message, cli=cli, web=web)
        self.role, self.action = role, action
        if role and action:
            self.web_message = (
                f"Your role ({role}) cannot {action}. Ask a node admin for a role that allows it."
            )


class FileMissing(NotFound):
    """A file given as input does not exist."""

    code = "file_missing"
    remedy = "Check the path."


class DatabaseUnavailable(SeawallError):
    """The configured database cannot be reached."""

    exit_code = 69
    http_status = 503
    code = "database_unavailable"
    remedy = "Check ``SEAWALL_DATABASE_URL`` and that the server is running."


class DatabaseFailed(DatabaseUnavailable):
    """The database failed mid-command: the connection dropped, or the schema is damaged or old."""

    code = "database_failed"
    remedy = (
        "Check the server; run ``seawall init`` to bring the schema up to date, or restore a "
        "backup."
    )


class NodeNotInitialised(SeawallError):
    """The node home has not been set up, or has no secret key."""

    exit_code = 78
    http_status = 409
    code = "node_not_initialised"
    remedy = "Run ``seawall init``."


class ConfigError(SeawallError):
    """A setting has a value Seawall cannot use, or ``seawall.toml`` is not valid TOML."""

    exit_code = 78
    http_status = 500
    code = "config_error"
    remedy = "Fix the setting named (docs/configuration.md)."


class AuditChainBroken(SeawallError):
    """``seawall audit verify`` finds the audit log edited or entries removed."""

    exit_code = 3
    http_status = 500
    code = "audit_chain_broken"
    remedy = "Treat it as an incident: keep the database and compare with a backup."


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
