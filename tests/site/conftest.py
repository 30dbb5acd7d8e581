"""Fixtures that build sites with the real `mkdocs build --strict` and serve them on loopback."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from cnnqa.chromium import INSTALL_HINT, find_chromium

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


def pytest_terminal_summary(terminalreporter, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "no Chromium found" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser tests skipped: no Chromium found; to run them, {INSTALL_HINT}.", yellow=True
        )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium the browser tests drive (under CI=true a missing one fails the run)."""
    path = find_chromium()
    if path is None:
        pytest.fail(f"CI=true and no Chromium found: {INSTALL_HINT}")
    return path


def mkdocs_build(config_file: Path, site_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a strict build (never with -q: MkDocs then exits 0 despite warnings)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)],
        capture_output=True,
        text=True,
        cwd=config_file.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        timeout=600,
    )


@pytest.fixture
def tiny_site(tmp_path):
    """Build a small throwaway site from {path: markdown}; returns (result, site_dir)."""

    def build(pages: dict[str, str], **config) -> tuple[subprocess.CompletedProcess, Path]:
        docs = tmp_path / "docs"
        for rel, text in pages.items():
            (docs / rel).parent.mkdir(parents=True, exist_ok=True)
            (docs / rel).write_text(text)
        (docs / "mermaid.min.js").write_text("// stands in for Mermaid: these builds are never opened\n")
        cfg = {
            "site_name": "tiny",
            "theme": {"name": "material", "font": False},
            "plugins": [{"cnnqa": {}}, {"mermaid2": {"javascript": "mermaid.min.js"}}],
            "markdown_extensions": ["attr_list", "md_in_html"],
            **config,
        }
        (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(cfg))
        return mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site"), tmp_path / "site"

    return build


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def served_site(tmp_path_factory):
    """The real site, built strictly for the address it is served from; yields (base_url, site_dir)."""
    vendor = REPO / "docs" / "assets" / "vendor" / "mermaid" / "mermaid.min.js"
    if not vendor.exists():
        pytest.fail("front-end assets are missing: run `make test` (or `make setup`) to install them")
    site_dir = tmp_path_factory.mktemp("site")
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    result = mkdocs_build(REPO / "mkdocs.yml", site_dir, env={"SITE_URL": base_url})
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stderr[-5000:]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, site_dir, result
    server.shutdown()
    server.server_close()
