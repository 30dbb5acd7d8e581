"""Loaded by pytest's main process too (with pytest-xdist the workers run the tests, and only
the main process writes the summary): says once why the browser tests were skipped."""

from cnnqa.chromium import INSTALL_HINT


def pytest_terminal_summary(terminalreporter, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "no Chromium found" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser tests skipped: no Chromium found; to run them, {INSTALL_HINT}.", yellow=True
        )
