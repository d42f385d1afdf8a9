"""Witnessed audit heads: real nodes on 127.0.0.1 hold each other's signed audit heads, so a
node whose own database and secret were both taken cannot truncate or rewrite its log unseen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select

from seawall.cli.main import cli
from seawall.core import audit, partners
from seawall.core.federation.errors import PartnerRefused
from seawall.core.federation.identity import IDENTITY_CHALLENGE, load_node_key
from seawall.core.federation.link import PartnerLink
from seawall.core.federation.links import partner_token
from seawall.core.node import Node
from seawall.db.models import AuditEntry, AuditHead
from seawall.db.models.intel_sync import IntelAuditHead
from seawall.intel import witness, witness_check
from seawall.intel.errors import AuditHeadConflict, AuditHeadInvalid
from tests.integration.test_intel_sync import Federation, Site


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    fed = Federation(tmp_path)
    yield fed
    fed.close()


@pytest.fixture
def pair(federation: Federation) -> tuple[Site, Site]:
    """Jamaica and Trinidad and Tobago, each registered (with its key) on the other."""
    return federation.jm_and_tt()


def link_to(site: Site, partner: str) -> PartnerLink:
    """The link ``site`` uses to reach its partner, with the token that partner issued it."""
    with site.node.unit(site.node.operator()) as ctx:
        row = partners.get_partner(ctx, partner)
        token = partner_token(ctx, site.node.settings, row)
        return PartnerLink(row.name, row.url, token, timeout=10)


def partner_id(site: Site, name: str) -> str:
    with site.node.unit(site.node.operator()) as ctx:
        return partners.get_partner(ctx, name).id


def publish(site: Site, partner: str) -> witness.Witnessed:
    with link_to(site, partner) as link:
        return witness.publish_head(site.node, partner_id(site, partner), link)


def newest(node: Node) -> tuple[int, str]:
    with node.unit(node.operator()) as ctx:
        entry = ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        return entry.seq, entry.hash


def held_on(site: Site, partner: str) -> list[tuple[str, int, str]]:
    """The heads ``site`` keeps for ``partner``: (state, count, hash), oldest first."""
    with site.node.unit(site.node.operator()) as ctx:
        pid = partners.get_partner(ctx, partner).id
        rows = ctx.db.scalars(
            select(IntelAuditHead)
            .where(IntelAuditHead.partner_id == pid)
            .order_by(IntelAuditHead.seq)
        )
        return [(r.state, r.count, r.hash) for r in rows]


def verify(home: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--home", str(home), "audit", "verify", *args], env={"SEAWALL_HOME": ""}
    )


# --- what an attacker holding the database (and the node secret) does ----------------


def truncate(node: Node, keep: int) -> None:
    """Delete every entry after ``keep`` and move the head row back, as SQL on the node can."""
    with node.sessions() as db, db.begin():
        db.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
        head = db.get(AuditHead, audit.HEAD_ID)
        assert head is not None
        last = db.get(AuditEntry, keep) if keep else None
        head.seq, head.hash = (keep, last.hash) if last else (0, audit.GENESIS)


def reforge(node: Node, seq: int) -> None:
    """Edit entry ``seq`` and re-forge the HMAC chain after it with the node secret."""
    with node.sessions() as db, db.begin():
        prev = db.get(AuditEntry, seq - 1).hash if seq > 1 else audit.GENESIS  # type: ignore[union-attr]
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
        ).all()
        entries[0].detail = {**entries[0].detail, "forged": True}
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = audit._entry_hash(node.audit_key, prev, audit._fields(entry))
            prev = entry.hash
        head = db.get(AuditHead, audit.HEAD_ID)
        assert head is not None
        head.hash = prev


# --- the tests --------------------------------------------------------------------------


def test_a_partner_keeps_our_signed_head_and_hands_it_back(pair: tuple[Site, Site]) -> None:
    jm, tt = pair
    first = publish(jm, "tt-node")
    assert first.outcome == "new"
    count, digest = newest(jm.node)
    # Publishing is itself audited on JM, after the head it published.
    assert first.count == count - 1
    assert held_on(tt, "jm-node") == [("held", first.count, first.hash)]
    # The head is JM's own statement: signed with JM's key, under the audit-head prefix.
    with link_to(jm, "tt-node") as link:
        back = link.witnessed_head(load_node_key(jm.node.settings).key_id)
    assert back is not None and back["count"] == first.count and back["nation"] == "JM"
    assert witness.verify_head(
        witness.parse_head(back), load_node_key(jm.node.settings).public_text
    )
    # The next publication extends the held head with a proof of the entries between.
    again = publish(jm, "tt-node")
    assert (again.outcome, again.count) == ("advanced", count)
    assert held_on(tt, "jm-node") == [("held", count, digest)]
    with tt.node.unit(tt.node.operator()) as ctx:
        actions = [e.action for e in audit.search(ctx.db, audit.AuditFilter(action="intel"))]
    assert actions.count("intel.audit_head.witnessed") == 2


def test_verify_with_witnesses_catches_a_truncated_log_that_verify_alone_passes(
    pair: tuple[Site, Site],
) -> None:
    jm, _tt = pair
    publish(jm, "tt-node")
    witnessed, _ = newest(jm.node)
    witnessed -= 1  # the publication's own entry came after the head
    assert verify(jm.node.settings.home).exit_code == 0
    assert verify(jm.node.settings.home, "--witnesses").exit_code == 0

    truncate(jm.node, witnessed - 2)
    alone = verify(jm.node.settings.home)
    assert alone.exit_code == 0, alone.output  # the head row moved with the entries
    caught = verify(jm.node.settings.home, "--witnesses", "--json")
    # The runner bypasses main()'s translator: the typed error comes back with its code.
    assert getattr(caught.exception, "exit_code", None) == 3, caught.output
    report = json.loads(_json_part(caught.output))
    [tt_says] = report["witnesses"]
    assert tt_says["partner"] == "tt-node"
    assert tt_says["verdict"] == "truncated"
    assert tt_says["count"] == witnessed
    assert f"entry {witnessed}" in tt_says["message"]
    assert "tt-node" in caught.output and f"{witnessed}" in caught.output


def test_a_log_deleted_whole_or_re_forged_with_the_secret_is_caught(
    pair: tuple[Site, Site],
) -> None:
    jm, _tt = pair
    publish(jm, "tt-node")
    witnessed = newest(jm.node)[0] - 1

    reforge(jm.node, 3)
    assert verify(jm.node.settings.home).exit_code == 0
    rewritten = verify(jm.node.settings.home, "--witnesses")
    assert getattr(rewritten.exception, "exit_code", None) == 3
    assert f"tt-node witnessed entry {witnessed}" in rewritten.output
    assert "rewritten" in rewritten.output

    truncate(jm.node, 0)
    assert verify(jm.node.settings.home).exit_code == 0
    gone = verify(jm.node.settings.home, "--witnesses")
    assert getattr(gone.exception, "exit_code", None) == 3
    assert "tt-node" in gone.output and "truncated" in gone.output


def test_a_head_that_goes_down_or_does_not_extend_is_refused_and_audited_on_the_witness(
    pair: tuple[Site, Site],
) -> None:
    jm, tt = pair
    first = publish(jm, "tt-node")
    truncate(jm.node, first.count - 2)
    jm.node.clock.advance(seconds=5)  # type: ignore[attr-defined]
    with pytest.raises(PartnerRefused, match="audit head") as refused:
        publish(jm, "tt-node")
    assert refused.value.status == 409
    # The witness keeps the head it held, and the refused one beside it as evidence.
    states = held_on(tt, "jm-node")
    assert states[0] == ("held", first.count, first.hash)
    assert [(s, c) for s, c, _ in states[1:]] == [("refused", first.count - 2)]
    with tt.node.unit(tt.node.operator()) as ctx:
        [entry] = audit.search(ctx.db, audit.AuditFilter(action="intel.audit_head.refused"))
    assert entry.detail["held_count"] == first.count
    assert entry.detail["offered_count"] == first.count - 2
    assert entry.detail["reason"] == "count_went_down"

    # Truncating and then writing past the old head does not hide it: the proof of the
    # entries in between does not lead from the held head to the new one.
    for n in range(6):
        with jm.node.unit(jm.node.operator()) as ctx:
            ctx.record("test.filler", str(n))
    with pytest.raises(PartnerRefused, match="audit head"):
        publish(jm, "tt-node")
    assert held_on(tt, "jm-node")[0] == ("held", first.count, first.hash)
    with tt.node.unit(tt.node.operator()) as ctx:
        reasons = [
            e.detail["reason"]
            for e in audit.search(ctx.db, audit.AuditFilter(action="intel.audit_head.refused"))
        ]
    assert reasons == ["not_an_extension", "count_went_down"]


def test_a_head_signed_under_another_prefix_or_key_is_refused_and_nothing_kept(
    pair: tuple[Site, Site],
) -> None:
    jm, tt = pair
    with jm.node.unit(jm.node.operator()) as ctx:
        published = witness.signed_head(ctx, jm.node.settings)
    key = load_node_key(jm.node.settings)
    fields = witness.parse_head(published).signed_fields()
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    # The same fields signed as an identity answer or a bundle, or by TT's own key.
    forgeries = {
        "identity prefix": {**published, "signature": key.sign(IDENTITY_CHALLENGE + body)},
        "bundle prefix": {**published, "signature": key.sign(b"seawall-bundle/1\n" + body)},
        "another key": {
            **published,
            "signature": load_node_key(tt.node.settings).sign(witness.HEAD_PREFIX + body),
        },
        "another count": {**published, "count": published["count"] + 1},
    }
    with link_to(jm, "tt-node") as link:
        for what, forged in forgeries.items():
            with pytest.raises(PartnerRefused) as refused:
                link.publish_head(forged)
            assert refused.value.status == 403, what
    with tt.node.unit(tt.node.operator()) as ctx:
        jm_node = partners.get_partner(ctx, "jm-node")
        for forged in forgeries.values():
            with pytest.raises(AuditHeadInvalid):
                witness.keep_head(ctx, jm_node, forged, via="bundle")
    assert held_on(tt, "jm-node") == []
    # The genuine head passes the same door.
    with tt.node.unit(tt.node.operator()) as ctx:
        kept = witness.keep_head(ctx, partners.get_partner(ctx, "jm-node"), published, "bundle")
    assert kept.outcome == "new"


def test_the_identity_proof_carries_the_head_to_a_partner_that_syncs(
    pair: tuple[Site, Site],
) -> None:
    jm, tt = pair
    jm_key = load_node_key(jm.node.settings).public_text
    # What sync does after proving the partner: keep the head the proof carried.
    with link_to(tt, "jm-node") as link:
        proof = link.prove_identity("JM", jm_key, since=None)
    assert proof is not None and proof.audit_head is not None
    kept = witness.keep_partner_head(tt.node, partner_id(tt, "jm-node"), proof.audit_head, "sync")
    assert kept.outcome == "new"
    with jm.node.unit(jm.node.operator()) as ctx:
        ctx.record("test.filler", "x")
    with tt.node.unit(tt.node.operator()) as ctx:
        since = witness.held_count(ctx, partners.get_partner(ctx, "jm-node"))
    with link_to(tt, "jm-node") as link:
        proof = link.prove_identity("JM", jm_key, since=since)
    assert proof is not None and proof.audit_head is not None
    later = witness.keep_partner_head(tt.node, partner_id(tt, "jm-node"), proof.audit_head, "sync")
    assert (later.outcome, later.count) == ("advanced", newest(jm.node)[0])
    # Someone without a token gets the proof of identity, but no audit head.
    anonymous = httpx.get(
        f"{jm.url}/api/v1/intel/sync/identity", params={"challenge": "c" * 24}, timeout=10
    ).json()
    assert "audit_head" not in anonymous and anonymous["nation"] == "JM"
    # A rewritten log then meets its witness at the next sync, which fails on the conflict.
    truncate(jm.node, 1)
    with link_to(tt, "jm-node") as link:
        proof = link.prove_identity("JM", jm_key, since=later.count)
    assert proof is not None and proof.audit_head is not None
    with pytest.raises(AuditHeadConflict, match="jm-node"):
        witness.keep_partner_head(tt.node, partner_id(tt, "jm-node"), proof.audit_head, "sync")
    assert [s for s, _, _ in held_on(tt, "jm-node")] == ["held", "refused"]


def test_the_api_verify_asks_the_witnesses_too(pair: tuple[Site, Site]) -> None:
    jm, _tt = pair
    publish(jm, "tt-node")
    from seawall.core import tokens, users

    with jm.node.unit(jm.node.operator()) as ctx:
        users.add_user(ctx, "auditor", "admin")
        token = tokens.create_token(ctx, "audit", [], username="auditor").value
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{jm.url}/api/v1/audit/verify"
    plain = httpx.get(url, headers=headers, timeout=30).json()
    assert plain["ok"] is True and plain["witnesses"] == []
    both = httpx.get(url, params={"witnesses": "true"}, headers=headers, timeout=30).json()
    assert both["ok"] is True
    assert [(w["partner"], w["verdict"]) for w in both["witnesses"]] == [("tt-node", "agrees")]
    truncate(jm.node, 2)
    after = httpx.get(url, params={"witnesses": "true"}, headers=headers, timeout=30).json()
    assert after["ok"] is False
    assert [(w["partner"], w["verdict"]) for w in after["witnesses"]] == [("tt-node", "truncated")]
    assert any("tt-node" in p for p in after["problems"])


def test_an_unreachable_witness_is_said_but_is_no_failure(pair: tuple[Site, Site]) -> None:
    jm, tt = pair
    publish(jm, "tt-node")
    tt.stop()
    result = verify(jm.node.settings.home, "--witnesses")
    assert result.exit_code == 0, result.output
    assert "tt-node" in result.output and "unreachable" in result.output


def _json_part(output: str) -> str:
    """The JSON document of ``--json`` output (an error line may follow it)."""
    return output[: output.rindex("}") + 1]


def test_a_partner_that_does_not_witness_us_is_no_failure_of_publishing(
    federation: Federation,
) -> None:
    # TT has no partner record (and so no key) for JM: it cannot witness JM's head.
    jm = federation.site("jm", "JM", ["tt-node"])
    tt = federation.site("tt", "TT", [])
    federation.pair(jm, tt)
    outcome = publish(jm, "tt-node")
    assert outcome.outcome == "unwitnessed"
    assert "no partner of JM" in outcome.message


def test_each_side_lists_what_it_witnesses_and_what_the_other_holds(
    pair: tuple[Site, Site],
) -> None:
    jm, tt = pair
    first = publish(jm, "tt-node")
    truncate(jm.node, first.count - 2)
    jm.node.clock.advance(seconds=5)  # type: ignore[attr-defined]
    with pytest.raises(PartnerRefused):
        publish(jm, "tt-node")
    on_tt = CliRunner().invoke(
        cli,
        ["--home", str(tt.node.settings.home), "audit", "witnessed", "--json"],
        env={"SEAWALL_HOME": ""},
    )
    assert on_tt.exit_code == 0, on_tt.output
    [row] = [r for r in json.loads(on_tt.stdout) if r["partner"] == "jm-node"]
    assert (row["theirs"], row["theirs_hash"], row["refused"]) == (first.count, first.hash, 1)
    on_jm = CliRunner().invoke(
        cli, ["--home", str(jm.node.settings.home), "audit", "witnessed"], env={"SEAWALL_HOME": ""}
    )
    assert on_jm.exit_code == 0 and "tt-node" in on_jm.stdout, on_jm.output
    with jm.node.unit(jm.node.operator()) as ctx:
        [ours] = [w for w in witness_check.witnessing(ctx) if w.partner == "tt-node"]
    assert ours.ours == first.count  # what TT said it holds of ours, before the truncation
