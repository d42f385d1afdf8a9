"""A site on a partner's Seawall node (``seawall://PARTNER/AGREEMENT[?as-of=TIME]``).

``PARTNER`` is the name of a partner record on this node, ``AGREEMENT`` the hosting agreement
the partner's admin made for this nation (:mod:`seawall.embassy.hosting`). The site speaks to
the partner over the partner link (:class:`~seawall.core.federation.link.PartnerLink`): the
token the partner issued this node, stored sealed with the link state, a timeout and a cap on
answers. Before its first call it checks that the partner proves the identity registered for
it (its Ed25519 key) and that the agreement exists.

The host keeps every version (a put keeps the one it replaces, a delete adds a marker). The
current view is what ``get`` and ``list`` show; ``?as-of=`` opens the view of a past time,
read-only but for ``locks/``, which keep no versions: a recovering node reads the repository
as it was before an attack and still takes its lock.
"""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from seawall.core.federation.errors import PartnerError, PartnerRefused
from seawall.core.federation.link import PartnerLink
from seawall.embassy.errors import (
    BadSiteUrl,
    ObjectMissing,
    PurgeSignatureInvalid,
    RetentionLocked,
    SiteFull,
    SiteReadOnly,
    SiteUnavailable,
)
from seawall.embassy.hosting.retention import exempt
from seawall.embassy.sites.base import ObjectInfo, check_name
from seawall.embassy.sites.directory import resolve
from seawall.embassy.sites.urls import query_options, redact_url, split_url
from seawall.errors import SeawallError

SCHEME = "seawall"
API = "/api/v1/embassy/hosting"
DEFAULT_TIMEOUT = 60.0


def parse_as_of(url: str, value: str) -> datetime:
    """The ``as-of`` option: an ISO 8601 time, UTC unless it names an offset."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadSiteUrl(
            f"site URL {redact_url(url)} option as-of={value!r} is not an ISO 8601 time "
            "such as 2026-12-01T00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class PartnerSite:
    """Objects kept by a partner's node under one hosting agreement."""

    def __init__(
        self,
        partner: str,
        agreement: str,
        *,
        as_of: datetime | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.partner = partner
        self.agreement = agreement
        self.as_of = as_of.astimezone(UTC) if as_of else None
        self.timeout = timeout
        self._link: PartnerLink | None = None
        self._lock = threading.Lock()
        # What the guest's node acts on once an operation ends (embassy.hosting.guest): the
        # agreement's terms read at connect, how many names this open deleted (a release is
        # then owed), and the host's refusal of a write after the agreement ended.
        self.terms: dict[str, Any] | None = None
        self.deleted = 0
        self.expired: str | None = None
        # Called with each object this site stored (name, bytes): audit challenges are
        # computed from the bytes while the guest still has them.
        self.tap: Callable[[str, bytes], None] | None = None

    @classmethod
    def from_url(cls, url: str, **opts: Any) -> PartnerSite:
        """Build a site from ``seawall://PARTNER/AGREEMENT[?as-of=TIME]``."""
        parts = split_url(url, SCHEME)
        options = query_options(url, parts, {"as-of"})
        agreement = unquote(parts.path).strip("/")
        if not parts.hostname or "@" in parts.netloc or parts.port is not None:
            raise BadSiteUrl(
                f"site URL {redact_url(url)} must name a partner of this node: "
                "seawall://PARTNER/AGREEMENT"
            )
        if not agreement or "/" in agreement:
            raise BadSiteUrl(
                f"site URL {redact_url(url)} must name one hosting agreement: "
                "seawall://PARTNER/AGREEMENT"
            )
        as_of = parse_as_of(url, options["as-of"]) if "as-of" in options else None
        return cls(unquote(parts.netloc), agreement, as_of=as_of, **opts)

    @property
    def url(self) -> str:
        """``seawall://PARTNER/AGREEMENT`` (with ``as-of`` for a past view); no secret."""
        base = f"{SCHEME}://{self.partner}/{self.agreement}"
        if self.as_of is None:
            return base
        return f"{base}?as-of={self.as_of.isoformat().replace('+00:00', 'Z')}"

    # -- the link ------------------------------------------------------------------------

    def _connect(self) -> PartnerLink:
        with self._lock:
            if self._link is not None:
                return self._link
            try:
                endpoint = resolve(self.partner)
            except SeawallError as exc:
                raise SiteUnavailable(f"site {self.url} is not reachable: {exc.message}") from None
            if not endpoint.public_key:
                raise SiteUnavailable(
                    f"site {self.url} is not reachable: no public key is registered for "
                    f"partner {endpoint.name}, so its identity cannot be checked; register it "
                    "with `seawall intel partner link NAME --public-key ...`"
                )
            link = PartnerLink(endpoint.name, endpoint.url, endpoint.token, self.timeout)
            try:
                link.prove_identity(endpoint.nation, endpoint.public_key)
                self.terms = link.read_json(
                    link.request("GET", link.url + self._api()), "the hosting agreement"
                )
            except PartnerRefused as exc:
                link.close()
                if exc.status == 404:
                    raise SiteUnavailable(
                        f"site {self.url} is not reachable: partner {endpoint.name} holds no "
                        f"agreement {self.agreement} for this nation"
                    ) from None
                raise self._unavailable(exc) from None
            except PartnerError as exc:
                link.close()
                raise self._unavailable(exc) from None
            self._link = link
            return link

    def _api(self, tail: str = "") -> str:
        return f"{API}/{quote(self.agreement, safe='')}{tail}"

    def _unavailable(self, exc: PartnerError) -> SiteUnavailable:
        return SiteUnavailable(f"site {self.url} is not reachable: {_reason(exc)}")

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.as_of is not None:
            params["as-of"] = self.as_of.isoformat()
        return params

    def _call(
        self,
        method: str,
        tail: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        link = self._connect()
        try:
            return link.request(method, link.url + self._api(tail), params, body, content_type)
        except PartnerRefused as exc:
            raise _refused(exc) from None
        except PartnerError as exc:
            raise self._unavailable(exc) from None

    def _writable(self, name: str) -> None:
        if self.as_of is not None and not exempt(name):
            raise SiteReadOnly(
                f"site {self.url} is a read-only view of the past; open "
                f"{SCHEME}://{self.partner}/{self.agreement} to write {name}"
            )

    # -- the Site protocol ----------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        """Store a new version; the host keeps the one it replaces under retention."""
        check_name(name)
        self._writable(name)
        try:
            self._call(
                "PUT",
                f"/objects/{name}",
                body=bytes(data),
                content_type="application/octet-stream",
            )
        except _Refusal as exc:
            if exc.status == 507:
                raise SiteFull(f"site {self.url} is full: {exc.reason}") from None
            if exc.status == 409:  # agreement_expired: the only conflict a put meets
                self.expired = exc.reason
            raise SiteUnavailable(f"site {self.url} refused a write: {exc.reason}") from None
        if self.tap is not None:
            self.tap(name, data)

    def get(self, name: str) -> bytes:
        """The bytes ``name`` shows in this view."""
        check_name(name)
        try:
            response = self._call("GET", f"/objects/{name}", params=self._params())
        except _Refusal as exc:
            if exc.status == 404:
                raise ObjectMissing(f"{name} is missing on site {self.url}") from None
            raise SiteUnavailable(f"site {self.url} refused a read: {exc.reason}") from None
        data: bytes = response.content
        return data

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names shown in this view that start with ``prefix``."""
        try:
            response = self._call("GET", "/objects", params=self._params(prefix=prefix))
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused a listing: {exc.reason}") from None
        found = self._link.read_json(response, "a listing") if self._link else {}
        rows = found.get("objects")
        if not isinstance(rows, list):
            raise SiteUnavailable(f"site {self.url} answered a listing without objects")
        for row in rows:
            if isinstance(row, list) and row and isinstance(row[0], str):
                yield row[0]

    def delete(self, name: str) -> None:
        """Hide ``name`` behind a delete marker (its last version stays retained)."""
        check_name(name)
        self._writable(name)
        try:
            self._call("DELETE", f"/objects/{name}")
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused a delete: {exc.reason}") from None
        if not exempt(name):
            self.deleted += 1

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of what ``name`` shows in this view, or None."""
        check_name(name)
        try:
            response = self._call("GET", f"/stat/{name}", params=self._params())
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused a stat: {exc.reason}") from None
        found = self._link.read_json(response, "a stat") if self._link else {}
        size = found.get("size")
        if size is None:
            return None
        if not isinstance(size, int) or isinstance(size, bool):
            raise SiteUnavailable(f"site {self.url} answered a stat without a size")
        return ObjectInfo(name, size)

    def close(self) -> None:
        """Release the connection pool."""
        with self._lock:
            if self._link is not None:
                self._link.close()
                self._link = None

    # -- beyond the protocol: the agreement and its versions ------------------------------

    def status(self) -> dict[str, Any]:
        """The agreement's terms and how full it is."""
        try:
            response = self._call("GET", "")
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused: {exc.reason}") from None
        return self._connect().read_json(response, "the hosting agreement")

    def versions(self, prefix: str = "") -> builtins.list[dict[str, Any]]:
        """Every version the host keeps under ``prefix``, with its retention."""
        try:
            response = self._call("GET", "/versions", params={"prefix": prefix})
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused: {exc.reason}") from None
        found = self._connect().read_json(response, "the versions").get("versions")
        return [v for v in found if isinstance(v, dict)] if isinstance(found, list) else []

    def audit(self, challenges: Sequence[tuple[str, str]]) -> tuple[dict[str, str | None], int]:
        """Ask the host for keyed hashes of the named objects' bytes as it holds them now, one
        per ``(name, nonce hex)``; its answers by name (None: it holds no such object) and the
        bytes sent and received (bodies)."""
        body = json.dumps({"challenges": [list(c) for c in challenges]}).encode()
        try:
            response = self._call("POST", "/audit", body=body, content_type="application/json")
        except _Refusal as exc:
            raise SiteUnavailable(f"site {self.url} refused an audit: {exc.reason}") from None
        found = self._connect().read_json(response, "an audit").get("answers")
        if not isinstance(found, dict):
            raise SiteUnavailable(f"site {self.url} answered an audit without answers")
        answers = {str(k): v if isinstance(v, str) else None for k, v in found.items()}
        return answers, len(body) + len(response.content)

    def signed(self, action: str, document: dict[str, str]) -> dict[str, Any]:
        """Post a signed request (``release`` or ``purge``); the host's answer."""
        body = json.dumps(document).encode()
        try:
            response = self._call("POST", f"/{action}", body=body, content_type="application/json")
        except _Refusal as exc:
            if exc.status == 409:
                raise RetentionLocked(f"site {self.url}: {exc.reason}") from None
            if exc.status == 403:
                raise PurgeSignatureInvalid(f"site {self.url}: {exc.reason}") from None
            if exc.status == 404:
                raise ObjectMissing(f"site {self.url}: {exc.reason}") from None
            raise SiteUnavailable(f"site {self.url} refused: {exc.reason}") from None
        return self._connect().read_json(response, f"a signed {action}")


class _Refusal(Exception):
    """An HTTP refusal of the host, before the site method says what it means."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _reason(exc: PartnerError) -> str:
    return exc.message


def _refused(exc: PartnerRefused) -> _Refusal:
    # PartnerRefused reads "partner X answered 507 to PUT /path: <the host's message>".
    _head, _sep, reason = exc.message.partition(": ")
    return _Refusal(exc.status, reason or exc.message)
