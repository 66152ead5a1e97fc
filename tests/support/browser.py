"""Open a page file in headless Chromium the way a reader with no network would.

Debian's ``/usr/bin/chromium`` (installed by ``make browser``) is driven by
Playwright for Python through ``executable_path``, so no browser build is
ever downloaded (``playwright install`` is never run). Every request
the page makes is intercepted: the page file itself is served, anything else
is aborted and recorded, so a page that would reach for a CDN, a web font or
an image fails its test even though the machine has no network anyway.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Route

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
]


def launch(playwright: Playwright, env: dict[str, str] | None = None) -> Browser:
    """Debian's Chromium, headless, from a running Playwright; ``env`` adds to
    (or overrides) its environment, e.g. ``FONTCONFIG_FILE`` to choose the
    fonts it may find (``tests/support/fonts.py``)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS,
        env=None if env is None else {**os.environ, **env},
    )


@contextmanager
def chromium(env: dict[str, str] | None = None) -> Iterator[Browser]:
    """A headless Chromium for the duration of the block (one Playwright per
    process at a time: a second browser alongside comes from ``launch``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright, env)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """What happened while a page was open."""

    page: Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def visit(
    browser: Browser, path: Path, *, width: int = 1280, height: int = 900
) -> Iterator[Visit]:
    """Open ``path`` from a ``file://`` URL, offline, every request watched."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        offline=True,
        java_script_enabled=True,
        service_workers="block",
    )
    page = context.new_page()
    url = path.resolve().as_uri()
    record = Visit(page=page, url=url)

    def route(route: Route) -> None:
        requested = route.request.url
        if requested.split("#", 1)[0] == url:
            route.continue_()
        else:
            record.blocked.append(requested)
            route.abort()

    context.route("**/*", route)
    page.on("request", lambda request: record.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            record.console_errors.append(message.text)
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        yield record
    finally:
        context.close()


def distinct_colours(png: bytes) -> int:
    """How many colours a screenshot holds (1: a blank page)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours) if colours is not None else 1 << 20


def screenshot(
    browser: Browser, path: Path, target: Path, *, width: int = 1280
) -> None:
    """A full-page PNG of the page file ``path``."""
    with visit(browser, path, width=width) as seen:
        target.write_bytes(seen.page.screenshot(full_page=True, type="png"))
