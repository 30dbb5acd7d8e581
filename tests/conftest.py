"""Hooks of pytest's main process (with pytest-xdist the workers run the tests): it starts the
run's one build of the real site (see realsite.py) and writes the summary, where it says once why
the browser tests were skipped."""

import os
from pathlib import Path

import pytest
import realsite

from cnnqa.site.chromium import INSTALL_HINT

SITE_TESTS = Path(__file__).resolve().parent / "site"
_build = realsite.Build()


def _runs_site_tests(config) -> bool:
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == SITE_TESTS or SITE_TESTS in path.parents or path in SITE_TESTS.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist starts its workers, who inherit the address
def pytest_sessionstart(session):
    if os.environ.get("PYTEST_XDIST_WORKER") or realsite.ENV_VAR in os.environ:
        return
    if _runs_site_tests(session.config):
        _build.start()


def pytest_sessionfinish(session):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _build.stop()


# The order in which the two xdist workers take test files (--no-loadscope-reorder): work that
# needs no site while the real site builds, then the browser tests, the longest file that needs
# it, as early as they can start; the short files fill in around them.
FIRST = [
    "tests/core/test_shapes.py",
    "tests/site/test_page_code.py",  # blocks first; its scripts wait for the site
    "tests/site/test_browser.py",
    "tests/site/test_every_page.py",  # the other long browser file, to run beside test_browser.py
    "tests/site/test_build.py",
    "tests/site/test_explorer.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))  # stable: files keep their order


def pytest_terminal_summary(terminalreporter, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "no Chromium found" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser tests skipped: no Chromium found; to run them, {INSTALL_HINT}.", yellow=True
        )
