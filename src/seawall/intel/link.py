"""Intel's link to a partner node: TAXII 2.1 calls on top of core's partner link.

:class:`TaxiiLink` is a :class:`~seawall.core.federation.link.PartnerLink` (URL, token,
timeouts, size cap, identity challenge, checked JSON) that speaks the TAXII 2.1 media type
and adds discovery, collections, objects, add and status, each answer checked to be the
TAXII resource asked for before it is used. Failures are core's typed
:class:`~seawall.core.federation.errors.PartnerError` family.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse

from seawall.core.federation.errors import PartnerAnsweredGarbage
from seawall.core.federation.link import DEFAULT_TIMEOUT, PartnerLink

__all__ = ["DEFAULT_TIMEOUT", "MEDIA_TYPE", "EnvelopePage", "RemoteCollection", "TaxiiLink"]

MEDIA_TYPE = "application/taxii+json;version=2.1"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


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


class TaxiiLink(PartnerLink):
    """TAXII 2.1 calls to one partner, authenticated with the token it issued us."""

    media_type = MEDIA_TYPE
    answer_types = ("application/taxii+json",)
    answer_kind = "TAXII JSON"

    def __init__(self, name: str, url: str, token: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(name, url, token, timeout)
        self._root: str | None = None

    def api_root(self) -> str:
        """The partner's default API root, found by TAXII discovery."""
        if self._root is None:
            found = self.read_json(self.request("GET", f"{self.url}/taxii2/"), "discovery")
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
        found = self.read_json(
            self.request("GET", f"{self.api_root()}collections/"), "the collections list"
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
        response = self.request("GET", url, params)
        found = self.read_json(response, "a request for objects")
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
        status = self.read_json(self.request("POST", url, body=body), "our objects")
        return _checked_status(self.name, status)

    def status(self, status_id: str) -> dict[str, Any]:
        """A status resource from an earlier post."""
        url = f"{self.api_root()}status/{status_id}/"
        return _checked_status(self.name, self.read_json(self.request("GET", url), "a status"))


def _checked_status(name: str, status: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(status.get("id"), str) or status.get("status") not in ("pending", "complete"):
        raise PartnerAnsweredGarbage(f"partner {name} answered a post without a TAXII status")
    for key in ("successes", "failures", "pendings"):
        value = status.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise PartnerAnsweredGarbage(f"partner {name} sent a status with bad {key!r}")
    return status
