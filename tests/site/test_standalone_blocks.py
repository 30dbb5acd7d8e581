"""Every Python block a page shows runs when copied out alone: its own process, its own imports.

Each block runs in a process of its own, forked from a server that has imported numpy and torch
and nothing else (multiprocessing's forkserver, ``maxtasksperchild=1``). The block starts from
empty globals, as in ``python -c``: a missing import fails as it would for a reader, and no block
sees what another left behind (seeds, thread settings, matplotlib state, modules it imported).
The fork saves each block the 1.5 s import of torch; the modules it inherits are exactly those a
fresh ``import numpy, torch`` loads, and every block that uses them imports them itself.

MkDocs runs the same blocks again at build time (markdown-exec), where a failing block fails the
strict build (``test_build.py``).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import multiprocessing
import os
import re
import tempfile
import traceback
import unittest.mock
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PRELOAD = ["numpy", "torch"]
WORKERS = 2  # the machines' two cores


def site_blocks() -> list[tuple[str, str]]:
    """(``file:line``, source) of every Python fence under docs/ whose source the page shows.

    A fence without ``source=`` only draws a picture at build time: a reader never sees or
    copies it, and the strict build fails if it fails.
    """
    blocks = []
    for path in sorted((REPO / "docs").rglob("*.md")):
        text = path.read_text()
        for match in FENCE.finditer(text):
            if "source=" not in text[match.start() : text.index("\n", match.start())]:
                continue
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{path.relative_to(REPO / 'docs')}:{line}", match.group(1)))
    return blocks


BLOCKS = site_blocks()


def run_alone(where: str, source: str) -> tuple[int, str]:
    """Run one block as ``python -c`` would, in a fresh temporary directory; (exit code, output)."""
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


@pytest.fixture(scope="module")
def pool():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    # As a reader runs them: unmeasured. (The server would otherwise start coverage, and write
    # its data only after pytest-cov has combined the rest.)
    with unittest.mock.patch.dict(os.environ):
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
        pool = context.Pool(WORKERS, maxtasksperchild=1)
    yield pool
    pool.terminate()


@pytest.fixture(scope="module")
def results(pool):
    """Start every block at once, to run two at a time, each in a new process forked from the server."""
    return {where: pool.apply_async(run_alone, (where, source)) for where, source in BLOCKS}


def test_the_site_has_code_blocks():
    assert len(BLOCKS) > 50, f"expected the site's code blocks, found {len(BLOCKS)}"


def test_a_block_that_forgot_an_import_fails_and_blocks_share_nothing(pool):
    code, output = pool.apply(run_alone, ("forgot", "print(torch.zeros(1))"))
    assert code == 1 and "NameError: name 'torch' is not defined" in output
    leaves = "import torch\ntorch.set_default_dtype(torch.float64)\ntorch.LEFT_BEHIND = 1"
    looks = "import torch\nassert not hasattr(torch, 'LEFT_BEHIND')\nprint(torch.get_default_dtype())"
    assert pool.apply(run_alone, ("leaves", leaves)) == (0, "")
    assert pool.apply(run_alone, ("looks", looks)) == (0, "torch.float32\n")


@pytest.mark.parametrize("where", [where for where, _ in BLOCKS])
def test_block_runs_alone(results, where):
    code, output = results[where].get(timeout=300)
    assert code == 0, f"{where} exited with {code}:\n{output[-3000:]}"
