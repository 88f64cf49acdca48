"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright at handheld size.

Use ``pytestmark = BROWSER_MARKS`` and the ``page`` fixture of the root conftest.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def login(page, base_url: str, username: str, password: str = "pass-word-123") -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
