"""Find a Chromium to drive headless: the build draws the question map in it, the tests use it.

:func:`find_chromium` looks where a user may have one, in this order:

1. the ``CNNQA_CHROMIUM`` environment variable (an error if it names no executable file);
2. Debian's ``/usr/bin/chromium``;
3. ``chromium``, ``chromium-browser`` or ``google-chrome`` on the ``PATH``;
4. the Chromium that ``playwright install chromium`` downloaded, if it did.

It returns ``None`` when there is none; callers decide whether that is fatal.
"""

from __future__ import annotations

import os
import shutil

__all__ = ["ARGS", "ENV_VAR", "INSTALL_HINT", "find_chromium"]

ENV_VAR = "CNNQA_CHROMIUM"
ON_PATH = ("chromium", "chromium-browser", "google-chrome")
DEBIAN = "/usr/bin/chromium"
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install chromium`) "
    f"or point {ENV_VAR} at a Chromium or Chrome executable"
)
# Headless, as root, with no background traffic: without these flags Chromium calls home.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> str | None:
    """The path of a Chromium executable, or ``None`` if this machine has none.

    >>> import os
    >>> os.environ[ENV_VAR] = "/no/such/chromium"
    >>> find_chromium()
    Traceback (most recent call last):
    ...
    ValueError: CNNQA_CHROMIUM='/no/such/chromium' is not an executable file
    >>> del os.environ[ENV_VAR]
    """
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        if not _executable(chosen):
            raise ValueError(f"{ENV_VAR}={chosen!r} is not an executable file")
        return chosen
    if _executable(DEBIAN):
        return DEBIAN
    for name in ON_PATH:
        found = shutil.which(name)
        if found:
            return found
    return _playwright_chromium()


def _playwright_chromium() -> str | None:
    """The browser `playwright install chromium` put in its cache, if Playwright is installed."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Error:
        return None
    return path if _executable(path) else None
