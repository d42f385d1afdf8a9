"""Content packs: licensed indicator texts accepted only with the expected sha256."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from sqlalchemy import func, select, update

from seawall.assess.content import framework_with_content, import_content
from seawall.assess.errors import ContentHashMismatch, PackInvalid
from seawall.core.node import Node
from seawall.db.models import AuditEntry
from seawall.db.models.assess import ContentPack


def _pack(**changes: object) -> bytes:
    raw: dict[str, object] = {
        "format": "seawall.content/1",
        "framework": "cmm-2021",
        "name": "Licensed CMM 2021 indicators (test stand-in)",
        "licence": "licensed copy held by the node's nation",
        "indicators": [
            {"factor": "D1.1", "id": "D1.1-2a", "stage": 2, "text": "A strategy is being drafted"},
            {"factor": "D1.1", "id": "D1.1-3a", "stage": 3, "text": "A strategy is adopted"},
            {"factor": "D5.4", "id": "D5.4-2a", "stage": 2, "text": "Resilience is discussed"},
        ],
    }
    raw.update(changes)
    return yaml.safe_dump(raw).encode()


def _count(node: Node) -> int:
    with node.unit(node.operator()) as ctx:
        return int(ctx.db.scalar(select(func.count()).select_from(ContentPack)) or 0)


def test_a_pack_with_the_expected_hash_adds_indicators_to_the_framework(node: Node) -> None:
    data = _pack()
    with node.unit(node.operator()) as ctx:
        import_content(ctx, data, "cmm.yaml", "cmm-2021", hashlib.sha256(data).hexdigest())
    with node.unit(node.operator()) as ctx:
        cmm = framework_with_content(ctx.db, "cmm-2021")
        assert cmm.indicators_by_stage("D1.1") == {2: ["D1.1-2a"], 3: ["D1.1-3a"]}
        assert [i.text for i in cmm.factors()["D5.4"].indicators] == ["Resilience is discussed"]
        assert "assess.content.imported" in set(ctx.db.scalars(select(AuditEntry.action)))


def test_a_pack_with_another_hash_is_refused_and_nothing_is_stored(node: Node) -> None:
    data = _pack()
    with (
        node.unit(node.operator()) as ctx,
        pytest.raises(ContentHashMismatch, match="expected " + "0" * 64),
    ):
        import_content(ctx, data, "cmm.yaml", "cmm-2021", "0" * 64)
    assert _count(node) == 0


def test_a_pack_without_any_expected_hash_is_refused(node: Node) -> None:
    with node.unit(node.operator()) as ctx, pytest.raises(ContentHashMismatch, match="no expected"):
        import_content(ctx, _pack(), "cmm.yaml", "cmm-2021")


def test_a_pack_naming_an_unknown_factor_is_refused(node: Node) -> None:
    data = _pack(indicators=[{"factor": "D9.9", "id": "x", "stage": 2, "text": "t"}])
    with (
        node.unit(node.operator()) as ctx,
        pytest.raises(PackInvalid, match=r"indicators\[0\]\.factor: 'D9.9' is not a factor"),
    ):
        import_content(ctx, data, "cmm.yaml", "cmm-2021", hashlib.sha256(data).hexdigest())


def test_a_pack_for_another_framework_is_refused(node: Node) -> None:
    data = _pack(framework="nist-csf-2.0")
    with node.unit(node.operator()) as ctx, pytest.raises(PackInvalid, match="framework: is"):
        import_content(ctx, data, "cmm.yaml", "cmm-2021", hashlib.sha256(data).hexdigest())


def test_a_stored_pack_edited_behind_seawalls_back_is_detected(node: Node) -> None:
    data = _pack()
    with node.unit(node.operator()) as ctx:
        import_content(ctx, data, "cmm.yaml", "cmm-2021", hashlib.sha256(data).hexdigest())
    with node.unit(node.operator()) as ctx:
        ctx.db.execute(update(ContentPack).values(body=data.decode().replace("drafted", "done")))
    with node.unit(node.operator()) as ctx, pytest.raises(ContentHashMismatch, match="no longer"):
        framework_with_content(ctx.db, "cmm-2021")
