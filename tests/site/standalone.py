"""Run a page's block as ``python -c`` would: empty globals, a fresh temporary directory.

Kept apart from the tests, with only standard-library imports: the forkserver that
``test_page_code.py`` starts preloads this module with numpy and torch, so that each block's new
process imports nothing of the test machinery (jupytext, nbformat, pytest) before it runs.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import tempfile
import traceback


def start_worker(build_done: str | None) -> None:
    """A block process's start: yield the CPU (``nice``) while the real site, which the browser
    tests wait for, is still building; once ``build_done`` exists, compete as an equal."""
    if build_done is not None and not os.path.exists(build_done):
        os.nice(10)


def run_alone(where: str, source: str) -> tuple[int, str]:
    """Run one block (or a whole script) as ``python -c`` would; (exit code, output)."""
    output = io.StringIO()
    code = 0
    with tempfile.TemporaryDirectory() as cwd, contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        os.chdir(cwd)
        try:
            exec(compile(source, where, "exec"), {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        os.chdir("/")
    return code, output.getvalue()
