"""One headless Chromium for the page tests (Debian's, through Playwright).

It is never skipped: a machine without ``/usr/bin/chromium`` fails these
tests with the command that installs it (``make browser``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import CHROMIUM, chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser`",
            pytrace=False,
        )
    with chromium() as launched:
        yield launched
