"""Fixtures that build sites with the real `mkdocs build --strict` and serve them on loopback:
the real site (one build for the run, see realsite.py) and small throwaway ones."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import realsite
from browsing import watched_page
from realsite import mkdocs_command, serve

from cnnqa.site import chromium
from cnnqa.site.chromium import INSTALL_HINT, find_chromium

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    """Without a Chromium, skip the browser tests, except under CI=true where they must run."""
    browser_tests = [item for item in items if item.get_closest_marker("browser")]
    if not browser_tests or IN_CI or find_chromium() is not None:
        return
    skip = pytest.mark.skip(reason=f"no Chromium found: {INSTALL_HINT}")
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium the browser tests drive (under CI=true a missing one fails the run)."""
    path = find_chromium()
    if path is None:
        pytest.fail(f"CI=true and no Chromium found: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session (tests using it must be marked ``browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=chromium.ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served_site, request):
    """A watched page (see ``browsing.watched_page``) on the real site; a test marked
    ``real_search`` gets the real search index."""
    real_search = request.node.get_closest_marker("real_search") is not None
    with watched_page(browser, served_site[0], real_search=real_search) as page:
        yield page


def mkdocs_build(config_file: Path, site_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        mkdocs_command(config_file, site_dir),
        capture_output=True,
        text=True,
        cwd=config_file.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        timeout=600,
    )


@pytest.fixture
def tiny_site(tmp_path):
    """Build a small throwaway site from {path: markdown}; returns (result, site_dir).

    Its Mermaid is a stand-in unless ``real_mermaid=True``, and the map is left for the browser
    to draw unless the cnnqa plugin's config (``plugins=``) says otherwise.
    """

    def build(pages: dict[str, str], real_mermaid: bool = False, **config) -> tuple[subprocess.CompletedProcess, Path]:
        docs = tmp_path / "docs"
        for rel, text in pages.items():
            (docs / rel).parent.mkdir(parents=True, exist_ok=True)
            (docs / rel).write_text(text)
        for own in ("javascripts/mermaid.js", "stylesheets/cnnqa.css"):  # the site's map script and style
            (docs / own).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / "docs" / own, docs / own)
        mermaid = docs / "assets" / "vendor" / "mermaid" / "mermaid.min.js"
        mermaid.parent.mkdir(parents=True, exist_ok=True)
        if real_mermaid:
            shutil.copy(vendored_mermaid(), mermaid)
        else:
            mermaid.write_text("// stands in for Mermaid: these builds are never opened\n")
        cfg = {
            "site_name": "tiny",
            "theme": {"name": "material", "font": False},
            "plugins": [{"cnnqa": {"prerender_map": "never"}}],
            "markdown_extensions": ["attr_list", "md_in_html"],
            "extra_javascript": ["javascripts/mermaid.js"],
            "extra_css": ["stylesheets/cnnqa.css"],
            **config,
        }
        (tmp_path / "mkdocs.yml").write_text(yaml.dump(cfg, Dumper=_Dumper, sort_keys=False))
        return mkdocs_build(tmp_path / "mkdocs.yml", build.site_dir), build.site_dir

    build.site_dir = tmp_path / "site"
    return build


class _Dumper(yaml.SafeDumper):
    """Writes a string "!!python/name:x" as that YAML tag (a superfences formatter, say)."""

    def represent_str(self, text):
        if text.startswith("!!python/name:"):
            return self.represent_scalar(f"tag:yaml.org,2002:python/name:{text[14:]}", "")
        return super().represent_str(text)


_Dumper.add_representer(str, _Dumper.represent_str)


def vendored_mermaid() -> Path:
    vendor = REPO / "docs" / "assets" / "vendor" / "mermaid" / "mermaid.min.js"
    if not vendor.exists():
        pytest.fail("front-end assets are missing: run `make test` (or `make setup`) to install them")
    return vendor


@pytest.fixture
def serve_dir():
    """``serve_dir(path)``: a context manager serving a directory on loopback (see :func:`serve`)."""
    return serve


@pytest.fixture(scope="session")
def served_site():
    """The real site, built strictly for the address it is served from; (base_url, site_dir, result).

    One build for the whole run, started by pytest's main process (realsite.py); this waits for it."""
    vendored_mermaid()
    if realsite.ENV_VAR not in os.environ:
        pytest.fail("the real site's build was not started: run pytest on tests/ or tests/site/")
    base_url, site_dir, result = realsite.wait_for_build()
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stderr[-5000:]}")
    return base_url, site_dir, result
