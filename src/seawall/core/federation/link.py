"""A link to a partner node: an HTTP client bound to one partner, every answer checked.

The client holds the partner's URL and the token it issued us, a timeout, and a cap on
the size of an answer (refused while it is read). It proves the partner's identity with a
fresh challenge signed by the key registered for it, and answers JSON only after checking
it is a JSON object. Each failure becomes a typed
:class:`~seawall.core.federation.errors.PartnerError`: nothing answers, no answer in time,
an answer that is not what was asked for, an HTTP refusal, or a node that proves another
nation or key than the one registered. Pillars add their own calls on top (intel's TAXII
calls, :class:`seawall.intel.link.TaxiiLink`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlparse

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
from seawall.core.federation.identity import identity_challenge, same_key, verify_signature

JSON_MEDIA_TYPE = "application/json"
# Where every node answers the identity challenge and witnesses audit heads. The paths sit
# under intel's sync API, where they were first served; partners call them there.
IDENTITY_PATH = "/api/v1/intel/sync/identity"
WITNESS_PATH = "/api/v1/intel/sync/witness"
DEFAULT_TIMEOUT = 20.0
# The most a partner's answer may hold. A TAXII page of 1,000 indicators is 1-2 MB; an answer
# beyond this is refused while it is read, so a broken or hostile partner cannot fill memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_BODY_FRAMING = ("content-encoding", "content-length", "transfer-encoding")


@dataclass(frozen=True)
class ProvenIdentity:
    """What a partner proved about itself."""

    nation: str
    key_id: str
    public_key: str
    # The partner's signed audit head (seawall.intel.witness), when it gave us one to keep.
    audit_head: dict[str, Any] | None = None


class PartnerLink:
    """Calls to one partner, authenticated with the token it issued us.

    ``media_type`` is sent as Accept and as the Content-Type of a body; an answer is read
    as JSON when its type is ``application/json`` or one of ``answer_types``, and a
    refusal names what was expected (``answer_kind``).
    """

    media_type = JSON_MEDIA_TYPE
    answer_types: tuple[str, ...] = (JSON_MEDIA_TYPE,)
    answer_kind = "JSON"

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
            headers={"Accept": self.media_type, "Authorization": f"Bearer {token}"},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """One call to the partner: its answer, read under the size cap, or a PartnerError."""
        kind = content_type or self.media_type
        headers = {"Content-Type": kind} if body is not None else None
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

    def read_json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The answer as a JSON object; ``what`` names the request in the error."""
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in (JSON_MEDIA_TYPE, *self.answer_types):
            raise PartnerAnsweredGarbage(
                f"partner {self.name} answered {what} with {kind or 'no content type'!r}, "
                f"not {self.answer_kind}; check its URL"
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
            response = self.request("GET", self.url + IDENTITY_PATH, params)
        except PartnerRefused as exc:
            if exc.status == 404 and not public_key:
                return None
            if exc.status == 404:
                raise PartnerIdentityMismatch(
                    f"partner {self.name} at {self.url} cannot prove its identity, "
                    "but a public key is registered for it; check its URL"
                ) from None
            raise
        proof = self.read_json(response, "the identity challenge")
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
        response = self.request("GET", self.url + WITNESS_PATH, {"key_id": key_id})
        found = self.read_json(response, "a request for our audit head")
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
        response = self.request(
            "POST", self.url + WITNESS_PATH, body=body, content_type="application/json"
        )
        return self.read_json(response, "our audit head")


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
