"""The CLI through Click's runner and, once, as a real subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from seawall.cli.main import cli
from seawall.core import audit
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.settings import load_settings


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI in-process through Click's runner."""
    return CliRunner().invoke(cli, ["--home", str(home), *args], env=env or {})


def sw(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m seawall`` as a subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SEAWALL_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "seawall", "--home", str(home), *args],
        stdin=subprocess.DEVNULL,  # no terminal: a prompt must refuse, never wait
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    result = CliRunner().invoke(cli, ["--home", str(h), "init", "--nation", "jam", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nation"] == "JM"
    return h


def test_init_keeps_the_config_and_the_secrets_to_the_owner(home: Path) -> None:
    # seawall.toml may hold a database URL with its password.
    for name in ("seawall.toml", "secret.key", "intel-signing.key"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert run(home, "init").exit_code == 0  # re-running makes no second key
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        made = audit.search(ctx.db, audit.AuditFilter(action="intel.node_key.created"))
    node.close()
    assert len(made) == 1 and made[0].detail["public_key"].startswith("ed25519:")


def test_user_add_list_disable(home: Path) -> None:
    env = {"SEAWALL_USER_PASSWORD": "a-long-password"}
    assert run(home, "user", "add", "kemar", "--role", "analyst", env=env).exit_code == 0
    listed = json.loads(run(home, "user", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
        ("kemar", "analyst", False)
    ]
    assert run(home, "user", "disable", "kemar").exit_code == 0
    assert json.loads(run(home, "user", "list", "--json").stdout)[0]["disabled"] is True


def test_token_create_prints_once_and_revokes(home: Path) -> None:
    run(
        home,
        "user",
        "add",
        "ops",
        "--role",
        "admin",
        env={"SEAWALL_USER_PASSWORD": "a-long-password"},
    )
    created = json.loads(
        run(
            home,
            "token",
            "create",
            "--user",
            "ops",
            "--name",
            "siem",
            "--scope",
            "intel.read",
            "--json",
        ).stdout
    )
    assert created["token"].startswith("sw_") and created["scopes"] == ["intel.read"]
    listed = run(home, "token", "list", "--json").stdout
    assert created["token"] not in listed
    assert run(home, "token", "revoke", created["id"]).exit_code == 0
    assert json.loads(run(home, "token", "list", "--json").stdout)[0]["revoked_at"]


def test_partner_add_and_list(home: Path) -> None:
    added = run(
        home,
        "partner",
        "add",
        "tt-national",
        "--nation",
        "TT",
        "--url",
        "https://seawall.tt.example",
        "--max-tlp",
        "amber",
        "--embassy-host",
    )
    assert added.exit_code == 0
    listed = json.loads(run(home, "partner", "list", "--json").stdout)
    assert listed[0]["nation"] == "TT" and listed[0]["embassy_host"] is True
    for url in ("https://sync:s3cret-pw@seawall.bb.example", "https://:s3cret-pw@bb.example"):
        refused = sw(home, "partner", "add", "bb-national", "--nation", "BB", "--url", url)
        assert refused.returncode == 65 and "must not carry a user or password" in refused.stderr
        assert "s3cret-pw" not in refused.stderr + refused.stdout
    assert len(json.loads(run(home, "partner", "list", "--json").stdout)) == 1


def test_audit_show_filters(home: Path) -> None:
    run(home, "partner", "add", "bb", "--nation", "BB", "--url", "https://bb.example")
    rows = json.loads(run(home, "audit", "show", "--action", "partner", "--json").stdout)["items"]
    assert [r["action"] for r in rows] == ["partner.added"]


def test_tampered_audit_log_fails_verify_naming_the_entry(home: Path) -> None:
    run(home, "partner", "add", "bb", "--nation", "BB", "--url", "https://bb.example")
    assert sw(home, "audit", "verify").returncode == 0
    node = Node(load_settings(home=home))
    with node.unit(node.operator()) as ctx:
        seq = ctx.db.scalar(select(AuditEntry.seq).where(AuditEntry.action == "partner.added"))
        ctx.db.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(target="x"))
    node.close()
    verdict = sw(home, "audit", "verify")
    assert verdict.returncode == 3  # audit_chain_broken
    assert verdict.stderr.strip() == (
        f"error: audit log tampered: entry {seq} (partner.added) was edited"
    )


def test_a_real_process_commits_and_prints_everything_before_it_ends(home: Path) -> None:
    # As a program the CLI ends with os._exit once the command is done: its writes must be
    # committed and its output flushed into the pipe by then.
    for n in range(6):
        added = sw(home, "partner", "add", f"p{n}", "--nation", "BB", "--url", f"https://{n}.bb")
        assert added.returncode == 0, added.stderr
    shown = sw(home, "audit", "show", "--action", "partner", "--json")
    assert shown.returncode == 0
    assert [r["action"] for r in json.loads(shown.stdout)["items"]] == ["partner.added"] * 6


def test_a_reader_that_goes_away_gets_no_traceback(home: Path) -> None:
    # `seawall ... | head`: output still buffered when the command ends meets a closed pipe.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "SEAWALL_HOME")}
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "seawall", "--home", str(home), "user", "list", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_errors_are_one_line_with_stable_exit_codes(home: Path, tmp_path: Path) -> None:
    cases = [
        (
            ["user", "add", "bob", "--role", "wizard", "--password", "a-long-password"],
            65,
            "unknown role 'wizard'",
        ),
        (
            ["partner", "add", "x1", "--nation", "ZZ", "--url", "https://x.example"],
            65,
            "unknown nation code 'ZZ'",
        ),
        (["user", "disable", "ghost"], 66, "no user 'ghost'"),
    ]
    for args, code, text in cases:
        result = sw(home, *args)
        assert result.returncode == code, result.stderr
        assert text in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    missing = sw(tmp_path / "nowhere", "user", "list")
    assert missing.returncode == 78 and "run `seawall init`" in missing.stderr


def test_unreachable_database_names_url_without_password(home: Path) -> None:
    url = "postgresql+psycopg://seawall:hunter2-secret@127.0.0.1:9/seawall"
    result = sw(home, "user", "list", env={"SEAWALL_DATABASE_URL": url})
    assert result.returncode == 69
    assert "postgresql+psycopg://seawall:***@127.0.0.1:9/seawall" in result.stderr
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_loads_jamaica_with_three_partners_and_is_idempotent(home: Path) -> None:
    first = run(home, "demo", "--json")
    assert first.exit_code == 0
    loaded = json.loads(first.stdout)
    assert sorted(loaded["partners"]) == [
        "bb-national",
        "bz-national",
        "tt-national",
    ]
    assert "1 embassy repository added" in loaded["lines"][0]
    assert any("Sign in as admin / seawall-demo" in line for line in loaded["lines"])
    again = json.loads(run(home, "demo", "--json").stdout)
    assert again["users"] == [] and again["partners"] == []
    # admin was there already: its password is not the demo's to announce
    assert not any("admin / seawall-demo" in line for line in again["lines"])
    assert any("admin already exists and keeps their password" in x for x in again["lines"])
    nations = {p["nation"] for p in json.loads(run(home, "partner", "list", "--json").stdout)}
    assert nations == {"TT", "BB", "BZ"}


def test_brackets_in_names_and_errors_print_as_typed(home: Path) -> None:
    # Rich reads [/x] as markup: it raised on it, after the change was saved.
    added = sw(home, "org", "add", "Evil [/x] Org", "--kind", "cirt")
    assert added.returncode == 0, added.stderr
    listed = sw(home, "org", "list")
    assert listed.returncode == 0 and "Evil [/x] Org" in listed.stdout, listed.stderr
    refused = sw(home, "user", "add", "ab[bold]cd", "--role", "analyst",
                 env={"SEAWALL_USER_PASSWORD": "a-long-password"})  # fmt: skip
    assert refused.returncode == 65
    assert refused.stderr.strip().startswith("error: username 'ab[bold]cd' is not allowed")


def one_line(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """A refusal: the exit code, one line on stderr holding ``text``, no traceback."""
    assert result.returncode == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def test_init_refuses_without_leaving_a_node_behind(home: Path, tmp_path: Path) -> None:
    config = (home / "seawall.toml").read_text()
    one_line(sw(home, "init", "--nation", "TT"), 73, "this node serves JM")
    assert (home / "seawall.toml").read_text() == config  # still Jamaica's node

    fresh = tmp_path / "fresh"
    unreachable = "postgresql+psycopg://nobody:S3cretPW@127.0.0.1:1/x"
    one_line(sw(fresh, "init", "--database-url", unreachable), 69, "cannot reach database")
    assert not (fresh / "seawall.toml").exists()  # the refused URL is not remembered
    short = sw(fresh, "init", "--admin", "root", env={"SEAWALL_ADMIN_PASSWORD": " " * 12})
    one_line(short, 65, "password is too short")
    assert not (fresh / "seawall.toml").exists()

    fresh.mkdir(exist_ok=True)
    (fresh / "seawall.toml").write_text('nation = "JM')
    one_line(sw(fresh, "user", "list"), 78, "not valid TOML")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "seawall.db").write_bytes(b"not a database at all" * 100)
    one_line(sw(broken, "init"), 69, "file is not a database")


def test_outputs_and_inputs_that_cannot_be_used_get_one_line(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "x.json"
    one_line(sw(home, "intel", "export", "-o", str(missing)), 65, "does not exist")
    one_line(sw(home, "assess", "export", "--data", "index", "--group", "CARICOM",
                "--out", str(tmp_path)), 65, "is a directory")  # fmt: skip
    assert not list(tmp_path.glob(".*.partial"))

    assert (
        sw(home, "partner", "add", "tt", "--nation", "TT", "--url", "https://t.example").returncode
        == 0
    )
    empty, binary = tmp_path / "empty.txt", tmp_path / "token.bin"
    empty.write_text("\n")
    binary.write_bytes(bytes(range(256)))
    one_line(sw(home, "intel", "partner", "link", "tt", "--token-file", str(empty)), 65, "empty")
    one_line(
        sw(home, "intel", "partner", "link", "tt", "--token-file", str(binary)), 65, "not a text"
    )
    one_line(sw(home, "intel", "partner", "sync", "tt", "--timeout", "nan"), 65, "--timeout")

    with sqlite3.connect(home / "seawall.db") as db:
        db.execute("DROP TABLE partners")
    one_line(sw(home, "partner", "list"), 69, "the database failed: no such table: partners")


def test_more_refusals_are_one_line_with_the_way_out(home: Path) -> None:
    one_line(
        sw(home, "user", "add"), 2, "Missing argument 'USERNAME'. (see `seawall user add --help`)"
    )
    one_line(sw(home, "user", "add", "kemar", "--role", "analyst"), 65, "set SEAWALL_USER_PASSWORD")
    one_line(sw(home, "user", "list", env={"SEAWALL_NATION": "ZZ"}), 78, "SEAWALL_NATION")
    env = {"SEAWALL_USER_PASSWORD": "a-long-password"}
    assert sw(home, "user", "add", "kemar", "--role", "analyst", env=env).returncode == 0
    assert sw(home, "user", "disable", "kemar").returncode == 0
    one_line(sw(home, "token", "create", "--user", "kemar", "--name", "x"), 65, "kemar is disabled")
    # Two nations may each have an organisation of one name; a user joins their nation's.
    for nation in ("JM", "TT"):
        added = sw(home, "org", "add", "eGov Limited", "--kind", "ministry", "--nation", nation)
        assert added.returncode == 0, added.stderr
    joined = sw(home, "user", "add", "fred", "--role", "analyst", "--nation", "TT",
                "--org", "eGov Limited", env=env)  # fmt: skip
    assert joined.returncode == 0, joined.stderr


def test_values_a_record_would_keep_wrong_are_refused(home: Path) -> None:
    env = {"SEAWALL_USER_PASSWORD": "a-long-password"}
    bad_email = sw(home, "user", "add", "ann", "--role", "viewer", "--email", "notanemail", env=env)
    one_line(bad_email, 65, "email 'notanemail' is not an address")
    one_line(sw(home, "init", "--name", " "), 65, "the node name is empty")
    one_line(sw(home, "serve", "--port", "99999"), 2, "99999 is not in the range 1<=x<=65535")
    one_line(sw(home, "intel", "match", "x.log", "--show", "-1"), 2, "--show")
