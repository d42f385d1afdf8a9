"""Failures of the data-embassy pillar."""

from __future__ import annotations

from seawall.errors import InvalidInput, NotFound, SeawallError


class SiteUnavailable(SeawallError):
    """A site cannot be reached or refused the operation."""

    exit_code = 69
    http_status = 503
    code = "site_unavailable"


class SiteFull(SeawallError):
    """A site has no space left for a write."""

    exit_code = 74
    http_status = 507
    code = "site_full"


class ObjectMissing(NotFound):
    """A named object is not on the site."""

    code = "object_missing"


class BadSiteUrl(InvalidInput):
    """A site URL Seawall cannot use."""

    code = "bad_site_url"
