"""Browser fixtures: Debian's Chromium driven by Playwright, against a live demo node."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from seawall.core.clock import SystemClock
from seawall.core.node import Node, init_node
from seawall.demo import DEMO_PASSWORD, load_demo
from seawall.settings import load_settings
from tests.conftest import LiveServer, serve_in_thread, start_at_heads

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
# Flags from this machine's notes: without them Chromium reaches for Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make services`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# Loading the demo costs seconds of CPU (Argon2 for each user and key slot, a backup and a
# drill), so a test process loads it once and hands each test a copy of that home, at the same
# path (the demo's embassy sites are recorded by absolute path). The demo keeps the real clock,
# so a copy is used only while the load is recent: a test sees the demo at most this much older
# than a fresh load would be.
DEMO_MAX_AGE = 120.0


@dataclass
class _DemoHome:
    base: Path
    loaded_at: float = 0.0

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def pristine(self) -> Path:
        return self.base / "pristine"

    def fresh_copy(self) -> Path:
        """The demo home as load_demo left it, loading it again when the last load is old."""
        shutil.rmtree(self.home, ignore_errors=True)
        if time.monotonic() - self.loaded_at > DEMO_MAX_AGE:
            shutil.rmtree(self.pristine, ignore_errors=True)
            settings = load_settings(home=self.home)
            start_at_heads(settings)
            node = init_node(settings, "JM", "Jamaica national node", clock=SystemClock())
            load_demo(node)
            node.close()  # the last connection folds SQLite's WAL into the file
            shutil.copytree(self.home, self.pristine, symlinks=True)
            self.loaded_at = time.monotonic()
        else:
            shutil.copytree(self.pristine, self.home, symlinks=True)
        return self.home


@pytest.fixture(scope="session")
def _demo_home(tmp_path_factory: pytest.TempPathFactory) -> _DemoHome:
    return _DemoHome(tmp_path_factory.mktemp("demo-node"))


@pytest.fixture
def demo_node(_demo_home: _DemoHome) -> Iterator[Node]:
    """A demo Jamaica node of this test alone, with the production cookie settings (Secure
    cookies)."""
    settings = load_settings(home=_demo_home.fresh_copy())
    assert settings.cookie_secure
    node = init_node(settings, "JM", "Jamaica national node", clock=SystemClock())
    yield node
    node.close()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo Jamaica node served for a whole module, for tests that only read its pages."""
    from seawall.web.app import create_app

    settings = load_settings(home=tmp_path_factory.mktemp("demo") / "home")
    start_at_heads(settings)
    node = init_node(settings, "JM", "Jamaica national node", clock=SystemClock())
    load_demo(node)
    live = serve_in_thread(create_app(node=node))
    yield live
    live.stop()
    node.close()


@pytest.fixture
def site(demo_node: Node) -> Iterator[LiveServer]:
    from seawall.web.app import create_app

    live = serve_in_thread(create_app(node=demo_node))
    yield live
    live.stop()


@pytest.fixture
def page(browser: Browser, site: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 860})
    pg = context.new_page()
    yield pg
    context.close()


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str = "admin", password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


__all__ = ["ARTIFACTS", "shoot", "shutil", "sign_in"]
