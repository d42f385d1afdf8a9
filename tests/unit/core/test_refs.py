"""The one rule for typed ids: the whole id, or a unique prefix of at least four characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.core import alerts
from seawall.core.node import Node
from seawall.core.refs import MIN_PREFIX, match_prefix
from seawall.errors import AmbiguousId, NotFound

IDS = ["68f3eebe-6c01", "68f3eeff-0000", "9a0b1c2d-3e4f", "abc"]


def test_a_unique_prefix_names_one_record() -> None:
    assert match_prefix("9a0b", "round", IDS, str) == "9a0b1c2d-3e4f"
    assert match_prefix("68F3EEB", "round", IDS, str) == "68f3eebe-6c01"


def test_a_short_id_is_taken_whole_but_not_as_a_prefix() -> None:
    assert match_prefix("abc", "round", IDS, str) == "abc"
    assert match_prefix("9a0", "round", IDS, str) is None


def test_an_ambiguous_prefix_names_the_candidates() -> None:
    with pytest.raises(AmbiguousId) as refused:
        match_prefix("68f3", "round", IDS, str)
    assert refused.value.message == (
        "round '68f3' is ambiguous: it matches 68f3eebe-6c01, 68f3eeff-0000; give more of it"
    )


# Ids over a two-letter alphabet share prefixes often (random UUIDs almost never share four
# characters), so the examples hold unique, ambiguous and whole-id references alike.
SHARING_IDS = st.lists(
    st.text("ab", min_size=MIN_PREFIX, max_size=8), min_size=1, max_size=20, unique=True
)


@given(SHARING_IDS, st.data())
def test_any_prefix_finds_its_id_or_refuses(ids: list[str], data: st.DataObject) -> None:
    wanted = data.draw(st.sampled_from(ids))
    length = data.draw(st.integers(MIN_PREFIX, len(wanted)))
    ref = wanted[:length]
    sharing = [i for i in ids if i.startswith(ref)]
    if ref in ids:  # a whole id is taken as itself, even when longer ids begin with it
        assert match_prefix(ref, "round", ids, str) == ref
    elif len(sharing) == 1:
        assert match_prefix(ref, "round", ids, str) == wanted
    else:
        with pytest.raises(AmbiguousId):
            match_prefix(ref, "round", ids, str)


@pytest.mark.parametrize("ref", ["%%%%", "____", "%_%_", "68f3%", "____-____"])
def test_like_wildcards_in_a_prefix_match_only_themselves(any_node: Node, ref: str) -> None:
    with any_node.unit(any_node.operator()) as ctx:
        for subject in ("gov-records", "land-registry", "tax-office"):
            alerts.raise_alert(ctx, "embassy.rpo.exceeded", subject, "7h old")
    with any_node.unit(any_node.operator()) as ctx, pytest.raises(NotFound):
        alerts.get_alert(ctx, ref)
