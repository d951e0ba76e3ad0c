"""A real browser against a real server: the app served on a loopback port, Debian's Chromium driven by
Playwright. Screenshots land in test-artifacts/ (kept by CI as artifacts)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# Chromium as root, headless, and quiet on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(demo: Flask) -> Iterator[LiveServer]:
    with LiveServer(demo) as server:
        yield server


@pytest.fixture(scope="session")
def _playwright() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser(_playwright) -> Iterator:
    instance = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield instance
    finally:
        instance.close()


# A small phone (iPhone SE): what must fit "above the fold" fits in 375 × 667.
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}


def new_page(browser, locale: str = "vi-VN", phone: bool = False):
    """A page in a fresh browser context; `phone` gives a small touch screen.

    The portal is in Vietnamese for everyone unless the person chose another language with the switch in the
    header (it does not follow the browser's language): a context whose locale is English also holds the
    cookie that switch leaves, as the browser of a person who chose English earlier."""
    options: dict = {"locale": locale}
    if phone:
        options |= PHONE
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    if locale.lower().startswith("en"):
        context.add_cookies([{"name": "lang", "value": "en", "domain": "127.0.0.1", "path": "/"}])
    return context.new_page()


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def accessibility_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (all its rules: WCAG 2.x A and AA, best practices).

    Injected through the DevTools protocol rather than a <script> tag: the portal's Content-Security-Policy
    (script-src 'self') refuses inline scripts, and the test must not loosen it."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]],
            "summary": v["nodes"][0].get("failureSummary", "") if v["nodes"] else "",
        }
        for v in result
    ]


def assert_accessible(page, where: str = "") -> None:
    """No serious or critical axe-core violation on the page; otherwise a readable list of them."""
    found = [v for v in accessibility_violations(page) if v["impact"] in BLOCKING]
    if found:
        lines = [f"{len(found)} serious or critical accessibility problem(s) on {where or page.url}:"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines += [f"    at {target}" for target in v["targets"][:5]]
            if len(v["targets"]) > 5:
                lines.append(f"    … and {len(v['targets']) - 5} more")
            if v["summary"]:
                lines.append("    " + v["summary"].replace("\n", "\n    "))
        raise AssertionError("\n".join(lines))


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
