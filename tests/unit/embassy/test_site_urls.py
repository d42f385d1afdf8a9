"""Site URLs: scheme dispatch, option parsing and redaction (no server needed)."""

from __future__ import annotations

import string
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.embassy.errors import BadSiteUrl
from seawall.embassy.sites import open_site, redact_url
from seawall.embassy.sites.local import LocalSite
from seawall.embassy.sites.s3 import S3Site
from seawall.embassy.sites.sftp import SftpSite

# RFC 3986 userinfo characters, minus ':' and '%': no 12-character run of them occurs in
# the fixed parts of the URLs below, so finding the password in the output means a leak.
PASSWORD = st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=", min_size=12)


@pytest.fixture
def no_aws_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the machine's ~/.aws out of S3 site construction."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)


@pytest.fixture
def identity(tmp_path: Path) -> Path:
    """A throwaway SSH identity file."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


@settings(max_examples=200, deadline=None)
@given(password=PASSWORD)
def test_redact_url_never_keeps_a_password(password: str) -> None:
    for url in (
        f"sftp://embassy:{password}@example.org:2222/srv/x",
        f"s3://AKIDEXAMPLE:{password}@bucket/prefix",
        f"s3://bucket/p?endpoint=http://127.0.0.1:9000&secret_key={password}",
        f"ftp://embassy:{password}@example.org/x?token={password}",
    ):
        assert password not in redact_url(url)


def test_a_secret_with_an_unescaped_ampersand_leaks_no_part() -> None:
    shown = redact_url("s3://b/p?endpoint=http://h:9&secret_key=000&00000000&region=us")
    assert shown == "s3://b/p?endpoint=http://h:9"


def test_redact_url_keeps_what_is_not_secret() -> None:
    assert (
        redact_url("sftp://embassy:pw@example.org:2222/srv/x?key=/k&accept_new=1")
        == "sftp://embassy@example.org:2222/srv/x?key=/k&accept_new=1"
    )
    assert redact_url("s3://AK:SK@bucket/p?region=eu-west-1&aws_secret=x") == (
        "s3://bucket/p?region=eu-west-1"
    )
    assert redact_url("file:///srv/embassy-a") == "file:///srv/embassy-a"


@pytest.mark.parametrize(
    "url",
    ["http://example.org/x", "ftp://u:hunter2-hunter2@example.org/", "srv/embassy", "", "gs://b"],
)
def test_open_site_refuses_other_schemes_and_names_the_supported_ones(url: str) -> None:
    with pytest.raises(
        BadSiteUrl, match=r"file:///dir, sftp://.*, s3://.* or seawall://PARTNER/AGREEMENT"
    ) as caught:
        open_site(url)
    assert "hunter2" not in str(caught.value)


def test_open_site_dispatches_on_scheme(tmp_path: Path, identity: Path, no_aws_files: None) -> None:
    assert isinstance(open_site(f"file://{tmp_path}"), LocalSite)
    assert isinstance(open_site(f"sftp://u@h:2222/srv?key={identity}"), SftpSite)
    assert isinstance(open_site("S3://bucket/p?endpoint=http://127.0.0.1:9000"), S3Site)


@pytest.mark.parametrize(
    "url", ["file://relative/dir", "file://otherhost/srv", "file:///srv?x=1", "file:relative"]
)
def test_file_urls_must_name_a_local_absolute_directory(url: str) -> None:
    with pytest.raises(BadSiteUrl):
        open_site(url)


@pytest.mark.parametrize("url", ["file:///srv/a?fsync=0", "file:///srv/a#part"])
def test_file_url_options_are_refused_as_options(url: str) -> None:
    with pytest.raises(BadSiteUrl, match="takes none of; write file:///absolute/dir"):
        open_site(url)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sftp://u:hunter2-secret@h/srv", "password"),
        ("sftp://u@h/srv?keyfile=/k", "unknown option 'keyfile'"),
        ("sftp://u@h/srv?accept_new=1&accept_new=0", "repeats"),
        ("sftp://u@h/srv?accept_new=maybe", "not 1 or 0"),
        ("sftp://u@h/srv?key=/no/such/identity", "does not exist"),
        ("sftp://u@h:notaport/srv", "malformed"),
        ("sftp:///srv", "needs a host"),
        ("sftp://u@h/srv#frag", "fragment"),
    ],
)
def test_bad_sftp_urls_are_refused_clearly(url: str, complaint: str) -> None:
    with pytest.raises(BadSiteUrl, match=complaint) as caught:
        open_site(url)
    assert "hunter2" not in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("s3://AKIDEXAMPLE:hunter2-secret@bucket/p", "carries credentials"),
        ("s3://Bucket_Name/p", "not valid"),
        ("s3://bucket/p?endpoint=ftp://h", "must be http"),
        ("s3://bucket/p?endpoint=http://u:hunter2-secret@h", "must not carry credentials"),
        ("s3://bucket/p?endpoint=http://:hunter2-secret@h", "must not carry credentials"),
        ("s3://bucket/p?secret_key=hunter2-secret", "unknown option"),
        ("s3://bucket/../up", "not a safe relative key"),
    ],
)
def test_bad_s3_urls_are_refused_clearly(url: str, complaint: str, no_aws_files: None) -> None:
    with pytest.raises(BadSiteUrl, match=complaint) as caught:
        open_site(url)
    assert "hunter2" not in str(caught.value)


def test_sftp_site_url_is_canonical_and_reopens_the_same_site(identity: Path) -> None:
    site = open_site(f"sftp://embassy@vault.example.org/srv/jm?key={identity}&accept_new=yes")
    assert site.url == f"sftp://embassy@vault.example.org:22/srv/jm?key={identity}&accept_new=1"
    assert open_site(site.url).url == site.url


def test_s3_site_url_is_canonical_and_reopens_the_same_site(no_aws_files: None) -> None:
    site = open_site("s3://bucket/embassy/jm/?endpoint=http://127.0.0.1:9000")
    assert site.url == "s3://bucket/embassy/jm?endpoint=http://127.0.0.1:9000&region=us-east-1"
    assert open_site(site.url).url == site.url
