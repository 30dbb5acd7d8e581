"""The real site for the tests: one strict build for the whole run, served on loopback.

pytest's main process starts it when the run begins (``tests/conftest.py``), in the background,
and hands its address to the pytest-xdist workers in the environment; the tests that read the
site wait for it (``served_site`` in ``tests/site/conftest.py``). So it is built once, however
the tests are spread over workers, while the first tests run. The site is built for the address
it is served from: Material's instant navigation only engages when they match.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV_VAR = "CNNQA_TEST_SITE"  # {"url", "dir", "done", "log"} of the run's build, as JSON
# Runs the build, then writes its exit code to `done` (renamed into place, so a reader never sees
# half of it): the build's output goes to `log`.
RUNNER = """
import os, subprocess, sys
log, done, *command = sys.argv[1:]
with open(log, "w") as out:
    code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
with open(done + ".tmp", "w") as out:
    out.write(str(code))
os.replace(done + ".tmp", done)
"""


def mkdocs_command(config_file: Path, site_dir: Path) -> list[str]:
    """A strict build (never with -q: MkDocs then exits 0 despite warnings)."""
    return [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file), "-d", str(site_dir)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the browser moved on before a response was sent in full: not the site's fault
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site_dir: Path):
    """Serve a directory on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class Build:
    """The run's build of the real site: started by the main process, awaited by any process."""

    def __init__(self):
        self.process = None

    def start(self) -> None:
        """Start building and serving; publish where, for the workers, in ``ENV_VAR``."""
        self.root = Path(tempfile.mkdtemp(prefix="cnnqa-test-site-"))
        site = self.root / "site"
        site.mkdir()
        self.serving = serve(site)
        url = self.serving.__enter__()
        where = {"url": url, "dir": str(site), "done": str(self.root / "done"), "log": str(self.root / "log")}
        self.process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, where["log"], where["done"], *mkdocs_command(REPO / "mkdocs.yml", site)],
            cwd=REPO,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": url},
        )
        os.environ[ENV_VAR] = json.dumps(where)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.serving.__exit__(None, None, None)
            shutil.rmtree(self.root, ignore_errors=True)
            os.environ.pop(ENV_VAR, None)
            self.process = None


def wait_for_build(timeout: float = 600) -> tuple[str, Path, subprocess.CompletedProcess]:
    """(url, site dir, result) of the run's build, once it has finished; ``result.stderr`` is its log."""
    where = json.loads(os.environ[ENV_VAR])
    done = Path(where["done"])
    deadline = time.monotonic() + timeout
    while not done.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the site's build did not finish within {timeout} s")
        time.sleep(0.2)
    code = int(done.read_text())
    log = Path(where["log"]).read_text()
    return where["url"], Path(where["dir"]), subprocess.CompletedProcess("mkdocs build", code, "", log)
