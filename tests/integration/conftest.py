"""Fixtures the integration tests share."""

import httpx
import pytest

from seawall.core import users
from seawall.core.node import Node
from tests.conftest import LiveServer, sign_in_by_form
from tests.hosts import guest  # noqa: F401 - a fixture: a guest node of one test

VIEWER_PASSWORD = "a-long-password"


@pytest.fixture
def viewer(node: Node, live_server: LiveServer) -> httpx.Client:
    """A client signed in through the form as ``jm-viewer``, a viewer of the node."""
    with node.unit(node.operator()) as ctx:
        users.add_user(ctx, "jm-viewer", "viewer", password=VIEWER_PASSWORD)
    http = httpx.Client(base_url=live_server.url, timeout=30)
    assert sign_in_by_form(http, "jm-viewer", VIEWER_PASSWORD).status_code == 303
    return http
