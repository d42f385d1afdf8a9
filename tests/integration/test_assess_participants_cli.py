"""``seawall assess round invite|participants|uninvite|reveal|lead``, ``agree --reason`` and
``publish --group`` through Click's runner and the real ``main``: each refusal is one line
with its exit code and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_assess_cli import PASSWORD, refused, run

PEOPLE = (
    ("jm-lead", "assessor"),
    ("jm-gov", "assessor"),
    ("jm-acad", "assessor"),
    ("jm-fac", "assessor"),
    ("jm-admin", "admin"),
)


def as_(user: str, *args: str) -> list[str]:
    return ["assess", "--as", user, "round", *args]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "node"
    run(h, "init", "--nation", "JM")
    for name, role in PEOPLE:
        run(h, "user", "add", name, "--role", role, "--nation", "JM", env=PASSWORD)
    run(h, *as_("jm-lead", "create", "--nation", "JM", "--year", "2026"))
    return h


def test_a_round_from_invitation_to_publication_to_one_group(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invited = run(
        home,
        *as_("jm-lead", "invite", "JM/2026", "--group", "government", "--rater", "jm-gov"),
    )
    assert "Invited government to round" in invited.output
    run(
        home,
        *as_("jm-lead", "invite", "JM/2026", "--group", "academia", "--rater", "jm-acad"),
        "--facilitator",
        "jm-fac",
    )
    listed = json.loads(run(home, *as_("jm-gov", "participants", "JM/2026", "--json")).stdout)
    assert (listed["lead"], listed["invited"], listed["revealed_at"]) == ("jm-lead", True, None)
    assert [(p["group"], p["username"], p["role"]) for p in listed["participants"]] == [
        ("academia", "jm-acad", "rater"),
        ("academia", "jm-fac", "facilitator"),
        ("government", "jm-gov", "rater"),
    ]
    table = run(home, *as_("jm-gov", "participants", "JM/2026")).stdout
    assert "jm-acad" in table and "facilitator" in table

    rate = ["rate", "JM/2026", "--factor", "D1.1", "--stage"]
    run(home, *as_("jm-gov", *rate, "4", "--group", "government"))
    refused(
        capsys,
        home,
        as_("jm-gov", *rate, "1", "--group", "academia"),
        77,
        "jm-gov rates for government in round",
    )
    hidden = json.loads(run(home, *as_("jm-acad", "consensus", "JM/2026", "--json")).stdout)
    assert (hidden[0]["ratings"], hidden[0]["hidden"]) == ({}, ["government"])
    table = run(home, *as_("jm-acad", "consensus", "JM/2026")).output
    assert "shown once your group rates the factor" in table

    refused(capsys, home, as_("jm-gov", "reveal", "JM/2026"), 77, "only the lead of round")
    assert "Revealed" in run(home, *as_("jm-lead", "reveal", "JM/2026")).output
    shown = json.loads(run(home, *as_("jm-acad", "consensus", "JM/2026", "--json")).stdout)
    assert (shown[0]["ratings"], shown[0]["hidden"]) == ({"government": 4}, [])

    agree = ["agree", "JM/2026", "--stage", "3", "--factor"]
    refused(capsys, home, as_("jm-gov", *agree, "D1.1"), 77, "only the lead (jm-lead)")
    run(home, *as_("jm-fac", *agree, "D1.1"))
    refused(capsys, home, as_("jm-lead", *agree, "D1.2"), 65, "no group has rated D1.2")
    run(home, *as_("jm-lead", *agree, "D1.2", "--reason", "workshop of 3 March"))
    view = json.loads(run(home, *as_("jm-gov", "consensus", "JM/2026", "--json")).stdout)
    assert view[1]["reason"] == "workshop of 3 March"

    run(home, *as_("jm-admin", "consent", "--nation", "JM", "--group", "CARICOM"))
    run(home, *as_("jm-admin", "consent", "--nation", "JM", "--group", "CARIBBEAN"))
    published = json.loads(
        run(
            home,
            *as_("jm-admin", "publish", "JM/2026", "--partial", "--group", "caricom", "--json"),
        ).stdout
    )
    assert published["groups"] == ["CARICOM"]
    shown_round = json.loads(run(home, *as_("jm-gov", "show", "JM/2026", "--json")).stdout)
    assert [(p["group"], p["published_by"]) for p in shown_round["published_to"]] == [
        ("CARICOM", "jm-admin")
    ]
    assert shown_round["lead"] == "jm-lead"


def test_only_the_lead_or_an_admin_invites_and_hands_over(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invite = ["invite", "JM/2026", "--group", "government", "--rater"]
    refused(capsys, home, as_("jm-gov", *invite, "jm-gov"), 77, "only the lead of round")
    refused(capsys, home, as_("jm-lead", *invite, "nobody"), 65, "no user 'nobody' of JM")
    no_rater = as_("jm-lead", "invite", "JM/2026", "--group", "government")
    refused(capsys, home, no_rater, 65, "name at least one rater for government")
    refused(capsys, home, as_("jm-gov", "lead", "JM/2026", "jm-gov"), 77, "only the lead")
    assert "now leads" in run(home, *as_("jm-admin", "lead", "JM/2026", "jm-fac")).output
    run(home, *as_("jm-fac", *invite, "jm-gov"))
    run(home, *as_("jm-fac", "uninvite", "JM/2026", "--group", "government", "--user", "jm-gov"))
    refused(
        capsys,
        home,
        as_("jm-fac", "uninvite", "JM/2026", "--group", "government", "--user", "jm-gov"),
        66,
        "jm-gov is not invited for government",
    )
    listed = json.loads(run(home, *as_("jm-gov", "participants", "JM/2026", "--json")).stdout)
    assert (listed["lead"], listed["participants"], listed["invited"]) == ("jm-fac", [], False)
    table = run(home, "assess", "round", "participants", "JM/2026").output
    assert "open to every assessor of JM" in table
