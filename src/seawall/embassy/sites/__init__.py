"""Storage sites for embassy shares: local directories, SFTP, S3 and partner nodes (one
Protocol, one contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from seawall.embassy.errors import BadSiteUrl
from seawall.embassy.sites.base import ObjectInfo, Site, check_name
from seawall.embassy.sites.throttle import Limits, current_limits, limit_site
from seawall.embassy.sites.urls import redact_url

SCHEMES = ("file", "sftp", "s3", "seawall")


def open_site(url: str, **opts: Any) -> Site:
    """The site a URL names: ``file:///dir``, ``sftp://user@host:port/dir``,
    ``s3://bucket/prefix`` or ``seawall://PARTNER/AGREEMENT``.

    ``opts`` go to the site class (``fsync=`` for local, ``timeout=`` for SFTP and partner
    nodes, ``connect_timeout=``, ``read_timeout=``, ``max_attempts=`` for S3). Nothing
    connects until the first call. Sites opened inside
    :func:`~seawall.embassy.sites.throttle.link_limits` are held to its bandwidth limits.
    """
    site = _open(url, **opts)
    return limit_site(site) if current_limits() != Limits() else site


def _open(url: str, **opts: Any) -> Site:
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme == "file":
        return _open_local(url, **opts)
    if scheme == "sftp":
        from seawall.embassy.sites.sftp import SftpSite  # paramiko loads only when needed

        return SftpSite.from_url(url, **opts)
    if scheme == "s3":
        from seawall.embassy.sites.s3 import S3Site  # boto3 loads only when needed

        return S3Site.from_url(url, **opts)
    if scheme == "seawall":
        from seawall.embassy.sites.partner import PartnerSite  # httpx loads only when needed

        return PartnerSite.from_url(url, **opts)
    raise BadSiteUrl(
        f"site URL {redact_url(url)} is not supported; use file:///dir,"
        " sftp://user@host:port/dir, s3://bucket/prefix?endpoint=... or"
        " seawall://PARTNER/AGREEMENT"
    )


def _open_local(url: str, **opts: Any) -> Site:
    from seawall.embassy.sites.local import LocalSite

    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise BadSiteUrl(
            f"site URL {redact_url(url)} has options, which a local directory takes none of;"
            " write file:///absolute/dir"
        )
    if parts.netloc not in ("", "localhost"):
        raise BadSiteUrl(
            f"site URL {redact_url(url)} is not a local directory; write file:///absolute/dir"
        )
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise BadSiteUrl(f"site URL {redact_url(url)} needs an absolute path: file:///dir")
    return LocalSite(Path(path), **opts)


__all__ = ["SCHEMES", "ObjectInfo", "Site", "check_name", "open_site", "redact_url"]
