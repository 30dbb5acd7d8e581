"""Draw Mermaid diagrams to SVG at build time, in headless Chromium, with the site's own renderer.

The site's script (``docs/javascripts/mermaid.js``) defines ``cnnqaMap.toSvg(source)``; this
module runs that same function on a blank page with the site's copy of Mermaid, so a map drawn
at build time is the map a reader's browser would draw, and it arrives with the page: no 3.5 MB
script to load before the map can be clicked. The blank page requests nothing.

Results are cached on disk by the hash of everything that shapes them (the sources and both
scripts), because ``mkdocs serve`` rebuilds on every edit and Chromium takes a second or two.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from cnnqa.site import chromium

__all__ = ["cache_key", "mermaid_to_svg"]


def cache_key(sources: Sequence[str], *scripts: Path) -> str:
    """A hash of the diagram sources and the scripts that draw them.

    >>> import pathlib, tempfile
    >>> script = pathlib.Path(tempfile.mkdtemp()) / "draw.js"
    >>> _ = script.write_text("one")
    >>> before = cache_key(["flowchart LR"], script)
    >>> before == cache_key(["flowchart LR"], script), before == cache_key(["flowchart TD"], script)
    (True, False)
    >>> _ = script.write_text("two")
    >>> before == cache_key(["flowchart LR"], script)
    False
    """
    digest = hashlib.sha256(json.dumps(list(sources)).encode())
    for script in scripts:
        digest.update(script.read_bytes())
    return digest.hexdigest()[:24]


def mermaid_to_svg(
    sources: Sequence[str], mermaid_js: Path, renderer_js: Path, executable: str, cache_dir: Path | None = None
) -> list[str]:
    """Each Mermaid source as the SVG that ``cnnqaMap.toSvg`` in ``renderer_js`` makes of it.

    ``executable`` is the Chromium to run (see :func:`cnnqa.site.chromium.find_chromium`).
    """
    key = cache_key(sources, mermaid_js, renderer_js)
    cached = cache_dir / f"mermaid-{key}.json" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return json.loads(cached.read_text())
    from playwright.sync_api import sync_playwright  # only builds that draw need Playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=chromium.ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.set_content("<!doctype html><html><head></head><body></body></html>")
            page.add_script_tag(path=str(mermaid_js))
            page.add_script_tag(path=str(renderer_js))
            if errors:
                raise RuntimeError(f"the map's scripts failed in Chromium: {errors}")
            svgs = [page.evaluate("source => cnnqaMap.toSvg(source)", source) for source in sources]
        finally:
            browser.close()
    if cached is not None:  # atomically: two builds may share the cache (two test workers)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(svgs))
        os.replace(partial, cached)
    return svgs
