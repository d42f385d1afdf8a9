"""An error page says what went wrong in words, in the page's language, with the code aside."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from seawall.core import users, websessions
from seawall.core.node import Node
from seawall.web.deps import SESSION_COOKIE
from tests.conftest import LiveServer

HTML = {"Accept": "text/html"}


def _heading(page: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert title and h1
    return title.group(1).strip(), h1.group(1).strip()


def test_error_pages_are_headed_in_words_in_the_pages_language(
    node: Node, live_server: LiveServer
) -> None:
    with node.unit(node.operator()) as ctx:
        viewer = users.add_user(ctx, "reader", "viewer", nation="JM")
        cookie = websessions.open_session(ctx, viewer, timedelta(hours=1)).cookie
    with httpx.Client(base_url=live_server.url, timeout=30, headers=HTML) as client:
        missing = client.get("/no-such-page?lang=es")
        client.cookies.set(SESSION_COOKIE, cookie)
        refused = client.get("/admin/users?lang=en")
        unreadable = client.get("/intel/search?q=x&sort=sideways&lang=fr")
    assert missing.status_code == 404
    assert _heading(missing.text) == ("No encontrado (404) · Seawall", "No encontrado")
    assert refused.status_code == 403
    assert _heading(refused.text)[1] == "Not allowed" and "Error 403" in refused.text
    assert unreadable.status_code == 422
    assert _heading(unreadable.text)[1] == "Cette demande n'a pas pu être utilisée"
