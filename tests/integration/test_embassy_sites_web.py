"""The repository page numbers its sites from 1, and its locate form sends that number, which
the core reads as the CLI's ``seawall embassy site locate`` does."""

from __future__ import annotations

import httpx

from seawall.core.node import Node
from seawall.embassy import registry
from tests.integration.test_embassy_schedules_web import (  # noqa: F401 (fixtures)
    custodian,
    node,
    repo,
)
from tests.integration.test_intel_bad_input import csrf_of


def test_the_locate_form_names_a_site_by_its_number_from_one(
    node: Node,  # noqa: F811
    custodian: httpx.Client,  # noqa: F811
) -> None:
    page = custodian.get("/embassy/gov-records")
    assert '<option value="1">1 · ' in page.text and '<option value="0">' not in page.text
    located = custodian.post(
        "/embassy/gov-records/locate",
        data={"csrf_token": csrf_of(page), "site": "1", "place": "Belmopan", "lat": "17.25",
              "lon": "-88.76"},
    )  # fmt: skip
    assert located.status_code == 200, located.text
    with node.unit(node.operator()) as ctx:
        row = registry.get_repo(ctx, "gov-records")
        assert row.locations[row.sites[0]]["place"] == "Belmopan"  # the first, numbered 1
        assert len(row.locations) == 1
