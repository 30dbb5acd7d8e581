"""Headless Chromium for the browser tests: a watched page that fails on outside requests or errors.

The fixtures ``browser`` (one Chromium for the session) and ``page`` (a watched page on the real
site) are in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import json

# Material draws a page's Mermaid diagrams into a *closed* shadow root, which no selector can
# enter; opening every shadow root (in the tests only) lets a test look inside.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attachShadow.call(this, { ...init, mode: "open" }); };
"""


# Material's search worker downloads and indexes the whole site's text (search_index.json) on
# every page load: measured, about 0.4 s of Chromium's CPU per load, nearly half of what loading
# every page costs. A test that neither searches nor times a page load gets the index with the
# real configuration and no documents.
SEARCH_INDEX = "**/search/search_index.json"
_empty_indexes: dict[str, str] = {}


def _empty_search_index(route) -> None:
    url = route.request.url
    if url not in _empty_indexes:
        _empty_indexes[url] = json.dumps({"config": route.fetch().json()["config"], "docs": []})
    route.fulfill(status=200, content_type="application/json", body=_empty_indexes[url])


@contextlib.contextmanager
def watched_page(browser, base_url: str, real_search: bool = False, **context_options):
    """A page in a fresh browser context that fails the test on any outside request or console
    error, from this page or any other the test opens in its context (``page.context.new_page()``).

    ``page.requested`` lists every URL the context asked for. Unless ``real_search``, the search
    index is served empty (see :data:`SEARCH_INDEX`)."""
    context = browser.new_context(base_url=base_url, **context_options)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    if not real_search:
        context.route(SEARCH_INDEX, _empty_search_index)
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
