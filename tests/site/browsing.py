"""Headless Chromium for the browser tests: a watched page that fails on outside requests or errors.

The fixtures ``browser`` (one Chromium for the session) and ``page`` (a watched page on the real
site) are in ``conftest.py``.
"""

from __future__ import annotations

import contextlib

# Material draws a page's Mermaid diagrams into a *closed* shadow root, which no selector can
# enter; opening every shadow root (in the tests only) lets a test look inside.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attachShadow.call(this, { ...init, mode: "open" }); };
"""


@contextlib.contextmanager
def watched_page(browser, base_url: str, **context_options):
    """A page in a fresh browser context that fails the test on any outside request or console
    error, from this page or any other the test opens in its context (``page.context.new_page()``).

    ``page.requested`` lists every URL the context asked for."""
    context = browser.new_context(base_url=base_url, **context_options)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    requested, errors = [], []
    context.on("request", lambda r: requested.append(r.url))
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    page.requested = requested
    yield page
    context.close()
    outside = [url for url in requested if not url.startswith((base_url, "data:", "blob:"))]
    assert not outside, f"requests outside the site's origin: {outside}"
    assert not errors, f"console errors: {errors}"
