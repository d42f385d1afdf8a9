"""A site in an S3 bucket (``s3://bucket/prefix?endpoint=...&region=...&profile=...``).

Credentials come from ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, from the named
``?profile=`` or from boto3's usual chain; never from the URL, so they cannot leak through
``url``, logs or error messages. Addressing is path-style, which every S3-compatible
server (MinIO, Ceph RGW, Garage, rclone) accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode, urlsplit

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from seawall.embassy.errors import BadSiteUrl, ObjectMissing, SiteFull, SiteUnavailable
from seawall.embassy.sites.base import ObjectInfo, check_name
from seawall.embassy.sites.urls import query_options, redact_url, split_url

T = TypeVar("T")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
FULL_CODES = frozenset({"XMinioStorageFull", "InsufficientStorage", "QuotaExceeded"})
DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "ExpiredToken"}
)
UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
)
# One loader for all sites: it caches the parsed S3 service model, which costs ~0.1 s a client.
_LOADER = botocore.loaders.create_loader()
NO_CREDENTIALS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
)


class S3Site:
    """Objects as keys under ``prefix/`` in one bucket; a PUT is atomic by S3's own rules."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
        page_size: int = 1000,
    ) -> None:
        if not BUCKET.match(bucket):
            raise BadSiteUrl(f"S3 bucket name {bucket!r} is not valid; use 3-63 of a-z 0-9 . -")
        prefix = prefix.strip("/")
        if prefix:
            check_name(prefix)
        if endpoint is not None:
            parts = urlsplit(endpoint)
            if parts.username is not None or parts.password is not None:
                raise BadSiteUrl(
                    "an S3 endpoint must not carry credentials (they would be stored and "
                    "audited): give http(s)://host[:port] and the keys in the environment"
                )
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise BadSiteUrl(
                    f"S3 endpoint {redact_url(endpoint)} must be http(s)://host[:port]"
                )
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.profile = profile
        self.page_size = page_size
        self._bucket_seen = False
        try:
            core = botocore.session.Session(profile=profile)
            core.register_component("data_loader", _LOADER)
            session = boto3.session.Session(botocore_session=core)
            # Reading the profile here makes an unknown one fail now, not at the first call.
            _ = session.region_name
        except botocore.exceptions.ProfileNotFound:
            raise BadSiteUrl(
                f"AWS profile {profile!r} for {self.url} is not configured; add it to"
                " ~/.aws/credentials or drop ?profile="
            ) from None
        self.region = region or session.region_name or "us-east-1"
        config = botocore.config.Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=16,
            signature_version="s3v4",
            # Validating response checksums wraps bodies in a stream that botocore then
            # fails to parse on a 5xx (AttributeError instead of a retry). Sealed objects
            # are authenticated above this layer; request checksums stay on.
            response_checksum_validation="when_required",
        )
        self._client: Any = session.client(
            "s3", region_name=self.region, endpoint_url=endpoint, config=config
        )

    @classmethod
    def from_url(cls, url: str, **opts: Any) -> S3Site:
        """Build a site from ``s3://bucket/prefix?endpoint=...&region=...&profile=...``."""
        parts = split_url(url, "s3")
        if "@" in parts.netloc:
            raise BadSiteUrl(
                f"site URL {redact_url(url)} carries credentials; set AWS_ACCESS_KEY_ID and"
                " AWS_SECRET_ACCESS_KEY or use ?profile= instead"
            )
        query = query_options(url, parts, ("endpoint", "region", "profile"))
        return cls(
            parts.netloc,
            unquote(parts.path),
            endpoint=query.get("endpoint") or None,
            region=query.get("region") or None,
            profile=query.get("profile") or None,
            **opts,
        )

    @property
    def url(self) -> str:
        """``s3://bucket/prefix`` with endpoint, region and profile; no credentials."""
        base = f"s3://{self.bucket}/{quote(self.prefix)}".rstrip("/")
        query = {"endpoint": self.endpoint, "region": self.region, "profile": self.profile}
        shown = {key: value for key, value in query.items() if value}
        return f"{base}?{urlencode(shown, safe='/:')}"

    @property
    def _where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/") + (
            f" at {self.endpoint}" if self.endpoint else ""
        )

    def _key(self, name: str) -> str:
        check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, what: str, op: Callable[[], T]) -> T:
        """Run one S3 request, translating boto's failures (never echoing the server's text)."""
        try:
            return op()
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = str(error.get("Message", "")).lower()
            if code in FULL_CODES or status == 507 or "no space left" in message:
                raise SiteFull(
                    f"site {self._where} is full; free space or replace the site"
                ) from None
            if code == "NoSuchBucket":
                raise SiteUnavailable(
                    f"site {self._where} is not reachable: bucket {self.bucket} does not exist"
                ) from None
            if code in DENIED_CODES:
                raise SiteUnavailable(
                    f"site {self._where} refused {what} ({code or status}); check the"
                    " credentials and the bucket policy"
                ) from None
            raise SiteUnavailable(f"site {self._where} failed {what}: {code or status}") from None
        except UNREACHABLE as exc:
            raise SiteUnavailable(
                f"site {self._where} is not reachable: {type(exc).__name__}"
            ) from None
        except NO_CREDENTIALS:
            raise SiteUnavailable(
                f"site {self._where} has no credentials; set AWS_ACCESS_KEY_ID and"
                " AWS_SECRET_ACCESS_KEY or use ?profile="
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise SiteUnavailable(
                f"site {self._where} failed {what}: {type(exc).__name__}"
            ) from None

    def _missing(self, exc: botocore.exceptions.ClientError) -> bool:
        """True when the object is absent; a missing bucket raises SiteUnavailable instead."""
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (code not in MISSING_CODES and status != 404):
            return False
        if not self._bucket_seen:
            # A HEAD has no body, so its bare 404 does not say whether the key or the
            # whole bucket is gone; ask once, or a lost bucket would pass for lost objects.
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as bucket_exc:
                if bucket_exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    raise SiteUnavailable(
                        f"site {self._where} is not reachable: bucket {self.bucket} does not exist"
                    ) from None
                raise
            self._bucket_seen = True
        return True

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` in one PUT (atomic in S3)."""
        key = self._key(name)
        self._call(
            "a write", lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        )

    def get(self, name: str) -> bytes:
        """Read an object; raises ObjectMissing when absent."""
        key = self._key(name)

        def op() -> bytes:
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as exc:
                if self._missing(exc):
                    raise ObjectMissing(f"{name} is missing on site {self._where}") from None
                raise
            with response["Body"] as body:
                data: bytes = body.read()
            return data

        return self._call("a read", op)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names that start with ``prefix``, page by page (ListObjectsV2)."""
        root = f"{self.prefix}/" if self.prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = iter(
            paginator.paginate(
                Bucket=self.bucket,
                Prefix=root + prefix,
                PaginationConfig={"PageSize": self.page_size},
            )
        )
        while True:
            page = self._call("a listing", lambda: next(pages, None))
            if page is None:
                return
            for item in page.get("Contents", []):
                key: str = item["Key"]
                if not key.endswith("/"):  # folder markers some tools create
                    yield key[len(root) :]

    def delete(self, name: str) -> None:
        """Remove an object; S3 deletes are idempotent, a 404 from a lax server too."""
        key = self._key(name)

        def op() -> None:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as exc:
                if not self._missing(exc):
                    raise

        self._call("a delete", op)

    def stat(self, name: str) -> ObjectInfo | None:
        """Size of an object (HEAD), or None."""
        key = self._key(name)

        def op() -> ObjectInfo | None:
            try:
                head = self._client.head_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as exc:
                if self._missing(exc):
                    return None
                raise
            return ObjectInfo(name, int(head["ContentLength"]))

        return self._call("a stat", op)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
