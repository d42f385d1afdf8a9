"""What a pack short of shares tells the user: repair only when repair can run."""

from __future__ import annotations

from seawall.embassy.health import too_few_shares

SITES = [f"file:///srv/site-{i}" for i in range(5)]
PACK = bytes(range(32))


def test_sites_down_are_named_with_how_many_to_bring_back() -> None:
    error = too_few_shares(PACK, 2, 3, SITES, up={1, 4})
    assert error.message == (
        "pack 0001020304050607 has 2 valid shares of the 3 needed; 3 of 5 "
        "sites are down (file:///srv/site-0, file:///srv/site-2, file:///srv/site-3): bring "
        "back at least 1 of them (a pack needs shares from 3 of the 5 sites)"
    )
    assert "repair" not in error.message


def test_with_every_site_up_repair_names_what_is_lost() -> None:
    error = too_few_shares(PACK, 1, 3, SITES, up=range(5))
    assert "on all 5 sites: it cannot be rebuilt; run repair" in error.message


def test_when_the_sites_down_cannot_make_up_the_shortfall_repair_waits_for_them() -> None:
    error = too_few_shares(PACK, 0, 3, SITES, up={0, 1, 2, 3})
    assert error.message.endswith(
        "on the 4 sites that answer: it cannot be rebuilt; bring back the sites that are "
        "down, then run repair to heal the rest and count what is lost"
    )
