"""A link to a partner node: TAXII 2.1 over httpx, every answer checked before it is used.

Each failure becomes a typed :class:`~seawall.intel.errors.PartnerError`: nothing
answers, no answer in time, an answer that is not the TAXII resource asked for, an HTTP
refusal, or a node that proves another nation or key than the one registered.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx

from seawall.core.federation.errors import (
    InvalidPublicKey,
    PartnerAnsweredGarbage,
    PartnerAnsweredTooMuch,
    PartnerIdentityMismatch,
    PartnerRefused,
    PartnerTimedOut,
    PartnerUnreachable,
)
from seawall.intel.identity import identity_challenge, same_key, verify_signature

MEDIA_TYPE = "application/taxii+json;version=2.1"
IDENTITY_PATH = "/api/v1/intel/sync/identity"
WITNESS_PATH = "/api/v1/intel/sync/witness"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"
DEFAULT_TIMEOUT = 20.0
# The most a partner's answer may hold. A TAXII page of 1,000 indicators is 1-2 MB; an answer
# beyond this is refused while it is read, so a broken or hostile partner cannot fill memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_BODY_FRAMING = ("content-encoding", "content-length", "transfer-encoding")


@dataclass(frozen=True)
class RemoteCollection:
    """A collection the partner lists for us."""

    id: str
    alias: str
    title: str
    can_read: bool
    can_write: bool


@dataclass(frozen=True)
class EnvelopePage:
    """One page of a partner's objects, checked to be a TAXII envelope."""

    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    date_added_last: str | None


@dataclass(frozen=True)
class ProvenIdentity:
    """What a partner proved about itself."""

    nation: str
    key_id: str
    public_key: str
    # The partner's signed audit head (seawall.intel.witness), when it gave us one to keep.
    audit_head: dict[str, Any] | None = None


class PartnerLink:
    """TAXII 2.1 calls to one partner, authenticated with the token it issued us."""

    def __init__(
        self,
        name: str,
        url: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            timeout=timeout,
            headers={"Accept": MEDIA_TYPE, "Authorization": f"Bearer {token}"},
            follow_redirects=False,
        )
        self._root: str | None = None

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> PartnerLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = MEDIA_TYPE,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type} if body is not None else None
        try:
            with self._client.stream(
                method, url, params=params, content=body, headers=headers
            ) as streamed:
                # The body is read (and decoded) once, under the cap; the copy keeps the
                # headers that do not describe the encoding it no longer has.
                response = httpx.Response(
                    streamed.status_code,
                    headers=[
                        (key, value)
                        for key, value in streamed.headers.multi_items()
                        if key.lower() not in _BODY_FRAMING
                    ],
                    content=self._read_capped(streamed),
                    request=streamed.request,
                )
        except httpx.TimeoutException:
            raise PartnerTimedOut(
                f"partner {self.name} at {self.url} did not answer in time; "
                "it will be retried on the next sync"
            ) from None
        except httpx.TransportError as exc:
            raise PartnerUnreachable(
                f"partner {self.name} at {self.url} cannot be reached "
                f"({type(exc).__name__}); it will be retried on the next sync"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise PartnerAnsweredGarbage(
                f"partner {self.name} at {self.url} answered with something HTTP cannot "
                f"read ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:
            raise PartnerRefused(
                f"partner {self.name} answered {response.status_code} to {method} "
                f"{urlparse(url).path}: {_description(response)}",
                response.status_code,
            )
        return response

    def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, refused as soon as it is declared or read past MAX_ANSWER_BYTES."""
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise self._too_much()
        parts: list[bytes] = []
        size = 0
        for part in response.iter_bytes():
            size += len(part)
            if size > MAX_ANSWER_BYTES:
                raise self._too_much()
            parts.append(part)
        return b"".join(parts)

    def _too_much(self) -> PartnerAnsweredTooMuch:
        return PartnerAnsweredTooMuch(
            f"partner {self.name} at {self.url} sent an answer over "
            f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB; nothing of it was used"
        )

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("application/taxii+json", "application/json"):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered {what} with {kind or 'no content type'!r}, "
                "not TAXII JSON; check its URL"
            )
        try:
            parsed = json.loads(response.content)
        except (ValueError, RecursionError):  # a JSON document nested past Python's stack
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered {what} with something that is not JSON; "
                "check its URL"
            ) from None
        if not isinstance(parsed, dict):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered {what} with JSON that is not an object"
            )
        return parsed

    def prove_identity(
        self, nation: str, public_key: str, since: int | None = None
    ) -> ProvenIdentity | None:
        """Check the partner is ``nation`` (and holds ``public_key`` when one is registered).

        Returns None when the partner offers no identity proof (a plain TAXII server) and
        no key is registered; with a registered key the proof is required. ``since`` is the
        count of the partner's audit head this node holds: the proof then carries the
        partner's newer head linked to it (``audit_head``), to be kept with
        :func:`seawall.intel.witness.keep_head`.
        """
        challenge = secrets.token_urlsafe(24)
        params = {"challenge": challenge}
        if since is not None:
            params["since"] = str(since)
        try:
            response = self._request("GET", self.url + IDENTITY_PATH, params)
        except PartnerRefused as exc:
            if exc.status == 404 and not public_key:
                return None
            if exc.status == 404:
                raise PartnerIdentityMismatch(
                    f"partner {self.name} at {self.url} cannot prove its identity, "
                    "but a public key is registered for it; check its URL"
                ) from None
            raise
        proof = self._json(response, "the identity challenge")
        fields = ("nation", "public_key", "key_id", "signature")
        if not all(isinstance(proof.get(f), str) for f in fields):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered the identity challenge without "
                "nation, public_key, key_id and signature"
            )
        claimed = str(proof["nation"]).upper()
        if claimed != nation.upper():
            raise PartnerIdentityMismatch(
                f"partner {self.name} at {self.url} answers as nation {claimed}, "
                f"but it is registered as {nation.upper()}; check its URL"
            )
        presented = str(proof["public_key"])
        try:
            if public_key and not same_key(public_key, presented):
                raise PartnerIdentityMismatch(
                    f"partner {self.name} at {self.url} presents signing key "
                    f"{proof['key_id']}, not the key registered for it; check the URL, or "
                    "register its new key with `seawall intel partner link`"
                )
            signed = identity_challenge(claimed, challenge)
            if not verify_signature(presented, str(proof["signature"]), signed):
                raise PartnerIdentityMismatch(
                    f"partner {self.name} at {self.url} could not sign our challenge "
                    "with the key it presents"
                )
        except InvalidPublicKey:
            raise PartnerAnsweredGarbage(
                f"partner {self.name} presented a public key that is not Ed25519"
            ) from None
        head = proof.get("audit_head")
        return ProvenIdentity(
            claimed, str(proof["key_id"]), presented, head if isinstance(head, dict) else None
        )

    def witnessed_head(self, key_id: str) -> dict[str, Any] | None:
        """The audit head of ours (signed with ``key_id``) the partner holds, if any."""
        response = self._request("GET", self.url + WITNESS_PATH, {"key_id": key_id})
        found = self._json(response, "a request for our audit head")
        head = found.get("head")
        if head is not None and not isinstance(head, dict):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered a request for our audit head without one"
            )
        return head

    def publish_head(self, published: Mapping[str, Any]) -> dict[str, Any]:
        """Hand the partner our signed audit head to witness; its answer (outcome and the
        head it now holds). A head it refuses as contradicting its own is a 409."""
        body = json.dumps(dict(published), separators=(",", ":")).encode()
        response = self._request(
            "POST", self.url + WITNESS_PATH, body=body, content_type="application/json"
        )
        return self._json(response, "our audit head")

    def api_root(self) -> str:
        """The partner's default API root, found by TAXII discovery."""
        if self._root is None:
            found = self._json(self._request("GET", f"{self.url}/taxii2/"), "discovery")
            root = found.get("default")
            if not isinstance(root, str):
                roots = found.get("api_roots")
                root = roots[0] if isinstance(roots, list) and roots else None
            if not isinstance(root, str):
                raise PartnerAnsweredGarbage(
                    f"partner {self.name} answered discovery without an API root"
                )
            resolved = urljoin(f"{self.url}/taxii2/", root)
            ours, theirs = urlparse(self.url), urlparse(resolved)
            if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
                # Behind a proxy a node may name itself by another host; keep the path, but
                # never send this node's token anywhere but the registered URL.
                resolved = f"{ours.scheme}://{ours.netloc}{theirs.path}"
            self._root = resolved.rstrip("/") + "/"
        return self._root

    def collections(self) -> list[RemoteCollection]:
        """The collections the partner lists for us."""
        found = self._json(
            self._request("GET", f"{self.api_root()}collections/"), "the collections list"
        )
        items = found.get("collections", [])
        if not isinstance(items, list):
            raise PartnerAnsweredGarbage(f"partner {self.name} sent collections that are no list")
        out: list[RemoteCollection] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise PartnerAnsweredGarbage(
                    f"partner {self.name} listed a collection without an id"
                )
            alias = item.get("alias")
            out.append(
                RemoteCollection(
                    id=item["id"],
                    alias=alias if isinstance(alias, str) else "",
                    title=str(item.get("title", "")),
                    can_read=item.get("can_read") is True,
                    can_write=item.get("can_write") is True,
                )
            )
        return out

    def get_objects(
        self, collection_id: str, added_after: str, next_page: str, limit: int
    ) -> EnvelopePage:
        """One page of a collection's objects, checked whole before any of it is used."""
        # Every version: the default (match[version]=last) would skip the versions in between.
        params = {"limit": str(limit), "match[version]": "all"}
        if added_after:
            params["added_after"] = added_after
        if next_page:
            params["next"] = next_page
        url = f"{self.api_root()}collections/{collection_id}/objects/"
        response = self._request("GET", url, params)
        found = self._json(response, "a request for objects")
        objects = found.get("objects", [])
        more = found.get("more", False)
        cursor = found.get("next")
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} sent an envelope whose objects are not a list of objects"
            )
        if not isinstance(more, bool) or (cursor is not None and not isinstance(cursor, str)):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} sent an envelope with a bad 'more' or 'next'"
            )
        if more and not cursor:
            raise PartnerAnsweredGarbage(
                f"partner {self.name} says more objects follow but gives no 'next'"
            )
        last = response.headers.get(DATE_ADDED_LAST)
        return EnvelopePage(objects, more, cursor if more else None, last or None)

    def add_objects(self, collection_id: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """Post an envelope; the partner's status resource."""
        url = f"{self.api_root()}collections/{collection_id}/objects/"
        body = json.dumps({"objects": objects}, separators=(",", ":")).encode()
        status = self._json(self._request("POST", url, body=body), "our objects")
        return _checked_status(self.name, status)

    def status(self, status_id: str) -> dict[str, Any]:
        """A status resource from an earlier post."""
        url = f"{self.api_root()}status/{status_id}/"
        return _checked_status(self.name, self._json(self._request("GET", url), "a status"))


def _checked_status(name: str, status: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(status.get("id"), str) or status.get("status") not in ("pending", "complete"):
        raise PartnerAnsweredGarbage(f"partner {name} answered a post without a TAXII status")
    for key in ("successes", "failures", "pendings"):
        value = status.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise PartnerAnsweredGarbage(f"partner {name} sent a status with bad {key!r}")
    return status


def _description(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return response.reason_phrase or "no description"
    if isinstance(body, dict):
        text = body.get("description") or body.get("message") or body.get("title")
        if isinstance(text, str):
            return text[:300]
    return response.reason_phrase or "no description"
