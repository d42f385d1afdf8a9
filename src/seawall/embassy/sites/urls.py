"""Site URLs: parsing their options and removing credentials before they are shown."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from seawall.embassy.errors import BadSiteUrl

# Options known to carry no secret. Shown URLs keep these and stop at the first other
# parameter: a secret holding an unescaped "&" would otherwise leak its tail as a "parameter".
SAFE_PARAMS = frozenset(
    {"endpoint", "region", "profile", "key", "known_hosts", "accept_new", "as-of"}
)
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


def redact_url(url: str) -> str:
    """``url`` without passwords, secret query parameters or fragment (safe to log and show).

    For ``s3://`` the whole user part goes, since it would be an access key pair.
    """
    try:
        parts = urlsplit(url.strip())
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "<unparseable site URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = "" if parts.scheme.lower() == "s3" else userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostport}" if user else hostport
    kept = []
    for key, value in query:
        if key not in SAFE_PARAMS:
            break
        kept.append((key, value))
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(kept, safe="/:"), ""))


def split_url(url: str, scheme: str) -> SplitResult:
    """Parse ``url`` and check its scheme; malformed URLs raise BadSiteUrl."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        raise BadSiteUrl(f"site URL {redact_url(url)} is malformed; check host and port") from None
    if parts.scheme.lower() != scheme:
        raise BadSiteUrl(f"site URL {redact_url(url)} is not a {scheme}:// URL")
    if parts.fragment:
        raise BadSiteUrl(f"site URL {redact_url(url)} has a #fragment; remove it")
    return parts


def query_options(url: str, parts: SplitResult, allowed: Collection[str]) -> dict[str, str]:
    """The query parameters of a site URL, refusing unknown or repeated ones."""
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadSiteUrl(
                f"site URL {redact_url(url)} has unknown option {key!r}; known options: {known}"
            )
        if key in options:
            raise BadSiteUrl(f"site URL {redact_url(url)} repeats option {key!r}; give it once")
        options[key] = value
    return options


def flag(url: str, key: str, value: str | None) -> bool:
    """A yes/no URL option (``1``/``0``, ``true``/``false``); absent means no."""
    if value is None:
        return False
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise BadSiteUrl(f"site URL {redact_url(url)} option {key}={value!r} is not 1 or 0")
