"""``seawall embassy key``: key slots and custodian recovery shares."""

from __future__ import annotations

import os
from pathlib import Path

import click

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import (
    NEW_PASSPHRASE_ENV,
    opened,
    repo_option,
    share_options,
    share_texts_of,
)
from seawall.cli.output import (
    ask_secret,
    emit_json,
    emit_or_table,
    json_option,
    say,
)
from seawall.embassy.custody import CustodianShare
from seawall.embassy.keys import (
    KeyChange,
    list_key_slots,
    plan_passphrase,
    plan_passphrase_change,
    plan_recovery_key,
    plan_removal,
)
from seawall.errors import InvalidInput

new_passphrase_option = click.option(
    "--new-passphrase",
    envvar=NEW_PASSPHRASE_ENV,
    default=None,
    help=f"Or {NEW_PASSPHRASE_ENV}; prompted if absent.",
)


def ask_new_passphrase(given: str | None) -> str:
    """The new passphrase: as given (option or environment), else asked for twice."""
    return given or ask_secret("New passphrase", NEW_PASSPHRASE_ENV)


@click.group()
def key() -> None:
    """Key slots and custodian recovery shares."""


@key.command("list")
@repo_option
@json_option
@pass_state
def key_list(state: CliState, repo_ref: str, as_json: bool) -> None:
    """List key slots (passphrases and recovery keys)."""
    with opened(state, repo_ref) as o:
        slots = list_key_slots(o.repo)
        current = o.repo.opened_with.id
    rows = [
        {
            "id": s.id,
            "kind": s.kind,
            "label": s.label,
            "created": s.created,
            "current": s.id == current,
        }
        for s in slots
    ]
    emit_or_table(
        as_json,
        rows,
        "Key slots",
        ["Id", "Kind", "Label", "Created", ""],
        (
            (r["id"], r["kind"], r["label"], r["created"], "← this session" if r["current"] else "")
            for r in rows
        ),
    )


@key.command("add")
@repo_option
@click.option("--label", default="", help="Whose passphrase this is.")
@new_passphrase_option
@pass_state
def key_add(state: CliState, repo_ref: str, label: str, new_passphrase: str | None) -> None:
    """Add another passphrase (no data is re-uploaded)."""
    secret = ask_new_passphrase(new_passphrase)
    with opened(state, repo_ref) as o:
        change = plan_passphrase(o.repo, secret, label=label)
        assert change.adds is not None
        o.change_keys("key.added", change, slot=change.adds.id, label=label)
    say(f"Added key slot {change.adds.id}")


@key.command("remove")
@repo_option
@click.argument("slot_id")
@pass_state
def key_remove(state: CliState, repo_ref: str, slot_id: str) -> None:
    """Remove a key slot (never the last passphrase)."""
    with opened(state, repo_ref) as o:
        o.change_keys("key.removed", plan_removal(list_key_slots(o.repo), slot_id), slot=slot_id)
    say(f"Removed key slot {slot_id}")


@key.command("passwd")
@repo_option
@new_passphrase_option
@pass_state
def key_passwd(state: CliState, repo_ref: str, new_passphrase: str | None) -> None:
    """Change this session's passphrase: re-wraps the key, never re-uploads data."""
    secret = ask_new_passphrase(new_passphrase)
    with opened(state, repo_ref) as o:
        change = plan_passphrase_change(o.repo, secret)
        assert change.adds is not None and change.retires is not None
        o.change_keys("key.changed", change, old_slot=change.retires.id, new_slot=change.adds.id)
    say(f"Passphrase changed (slot {change.adds.id})")


@key.command("split")
@repo_option
@click.option("--custodians", type=click.IntRange(2, 255), required=True)
@click.option("--threshold", type=click.IntRange(2, 255), required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one share file per custodian here (mode 0600).",
)
@json_option
@pass_state
def key_split(
    state: CliState,
    repo_ref: str,
    custodians: int,
    threshold: int,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Create a recovery key and split it among custodians (Shamir)."""
    if threshold > custodians:
        raise InvalidInput("--threshold cannot exceed --custodians")

    def hand_out(change: KeyChange) -> None:
        """Write or print the shares, before any site holds the slot they open."""
        texts = [s.to_text() for s in change.shares]
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)
            for share, text in zip(change.shares, texts, strict=True):
                path = out_dir / f"custodian-{share.index}.txt"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(text + "\n")
        elif as_json:
            emit_json({"threshold": threshold, "shares": texts})
        else:
            for text in texts:
                click.echo(text)

    with opened(state, repo_ref) as o:
        change = plan_recovery_key(o.repo, custodians=custodians, threshold=threshold)
        assert change.adds is not None
        o.change_keys(
            "key.split",
            change,
            hand_out,
            slot=change.adds.id,
            custodians=custodians,
            threshold=threshold,
        )
    if out_dir:
        say(
            f"Wrote {counted(custodians, 'custodian share')} to {out_dir}; any {threshold} recover "
            f"access"
        )
    elif not as_json:
        say(
            f"Give one line to each of {counted(custodians, 'custodian')}; any {threshold} recover "
            f"access"
        )


@key.command("recover")
@repo_option
@share_options
@new_passphrase_option
@pass_state
def key_recover(
    state: CliState,
    repo_ref: str,
    share_texts: tuple[str, ...],
    share_files: tuple[Path, ...],
    new_passphrase: str | None,
) -> None:
    """Open with custodian shares and set a new passphrase."""
    shares = [CustodianShare.from_text(t) for t in share_texts_of(share_texts, share_files)]
    secret = ask_new_passphrase(new_passphrase)
    with opened(state, repo_ref, recovery_shares=shares) as o:
        change = plan_passphrase(o.repo, secret, label="recovered")
        assert change.adds is not None
        o.change_keys("key.recovered", change, shares=len(shares), new_slot=change.adds.id)
    say(
        f"Access recovered with {counted(len(shares), 'custodian share')}; "
        f"new passphrase slot {change.adds.id}"
    )
