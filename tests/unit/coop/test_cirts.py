"""The CIRT directory's pure parts: the regional figures and the checks of an entry's fields."""

from __future__ import annotations

from typing import Any

import pytest

from seawall.coop.cirts import Signals, check_fields, regional_figures
from seawall.coop.records import CoopRecordInvalid

FPR = "0123 4567 89AB CDEF 0123  4567 89ab cdef 0123 4567"
ENTRY = {"nation": "JM", "name": "JaCIRT", "status": "established", "source": "https://x.jm/"}


def test_the_median_sim3_level_of_each_category_is_over_the_assessed_members_only() -> None:
    signals = Signals(
        sim3={
            "JM": {"O": 2.0, "H": 1.0, "T": 3.0, "P": 1.5},
            "TT": {"O": 3.0, "H": 2.0, "T": 1.0, "P": 2.5},
            "BB": {"O": 1.0, "H": 4.0, "T": 2.0},  # no P: left out of P's median
            "US": {"O": 4.0, "H": 4.0, "T": 4.0, "P": 4.0},  # not a member
            "GD": {},  # no self-assessment
        },
        sharing=frozenset({"JM", "TT", "US"}),
    )
    figures = regional_figures(
        "CARICOM",
        ["JM", "TT", "BB", "GD", "LC", "JM"],
        {"JM": "established", "TT": "established", "BB": "establishing", "US": "established"},
        signals,
    )
    assert figures.members == ("BB", "GD", "JM", "LC", "TT")
    assert figures.established == ("JM", "TT")
    assert figures.sharing == ("JM", "TT")
    assert figures.sim3_nations == ("BB", "JM", "TT")
    # O 1,2,3 -> 2; H 1,2,4 -> 2; T 1,2,3 -> 2; P 1.5,2.5 (two values) -> 2.0
    assert figures.sim3_median == {"O": 2.0, "H": 2.0, "T": 2.0, "P": 2.0}
    assert figures.as_dict()["established_cirts"] == 2
    assert figures.as_dict()["sim3_assessed"] == 3


def test_a_region_with_no_self_assessment_has_no_median_not_zero() -> None:
    figures = regional_figures("OECS", ["LC", "GD"], {}, Signals())
    assert figures.sim3_median == {}
    assert figures.established == () and figures.sharing == ()


def test_an_even_count_takes_the_mean_of_the_middle_two_rounded() -> None:
    signals = Signals(sim3={"JM": {"O": 1.0}, "TT": {"O": 2.0}, "BB": {"O": 2.5}, "GY": {"O": 3.0}})
    figures = regional_figures("CARICOM", ["JM", "TT", "BB", "GY"], {}, signals)
    assert figures.sim3_median == {"O": 2.25}


def _check(**values: Any) -> dict[str, Any]:
    return check_fields({**ENTRY, **values})


def test_an_email_is_checked_and_kept_among_the_contacts() -> None:
    assert _check(email="cirt@gov.jm")["contacts"] == {"email": "cirt@gov.jm"}
    for bad in ("cirt.gov.jm", "cirt@gov", "a b@gov.jm", "cirt@@gov.jm"):
        with pytest.raises(CoopRecordInvalid, match="not an e-mail address"):
            _check(email=bad)


def test_a_pgp_fingerprint_is_forty_or_sixty_four_hex_digits_spaces_ignored() -> None:
    assert _check(pgp_fingerprint=FPR)["pgp_fingerprint"] == "0123456789ABCDEF" * 2 + "01234567"
    assert _check(pgp_fingerprint="0x" + "ab" * 32)["pgp_fingerprint"] == "AB" * 32
    assert _check(pgp_fingerprint="")["pgp_fingerprint"] == ""
    for bad in ("0123456789ABCDEF", "G" * 40, "A" * 41, "0xDEADBEEF"):
        with pytest.raises(CoopRecordInvalid, match="not an OpenPGP key fingerprint"):
            _check(pgp_fingerprint=bad)


def test_a_bad_fingerprint_in_a_file_names_the_files_column() -> None:
    with pytest.raises(CoopRecordInvalid, match=r"^c\.csv: row 2, column pgp_fingerprint: not"):
        check_fields({**ENTRY, "pgp_fingerprint": "DEADBEEF"}, "c.csv: row 2, column")


def test_a_trusted_introducer_status_needs_its_listing_and_a_listing_is_at_least_listed() -> None:
    ti = "https://www.trusted-introducer.org/directory/teams/jacirt.html"
    assert _check(ti_url=ti)["ti_status"] == "listed"
    assert _check(ti_url=ti, ti_status="Accredited")["ti_status"] == "accredited"
    with pytest.raises(CoopRecordInvalid, match="ti_url: give the listing's link"):
        _check(ti_status="certified")
    with pytest.raises(CoopRecordInvalid, match="'member' is not one of listed"):
        _check(ti_url=ti, ti_status="member")
    with pytest.raises(CoopRecordInvalid, match="not an http"):
        _check(ti_url="ftp://ti.example/jacirt")


def test_a_sample_entry_says_it_is_sample_data() -> None:
    assert _check(sample=True)["note"].startswith("SAMPLE DATA")
