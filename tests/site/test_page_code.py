"""Every Python block a page shows runs when copied out alone, and each page's code to take home runs.

Blocks: each runs when copied out alone, in its own process, with its own imports.

Each block runs in a process of its own, forked from a server that has imported numpy and torch
(multiprocessing's forkserver, ``maxtasksperchild=1``; besides them the server holds only pytest,
which every process it forks would otherwise import again as the parent's main module, and
``standalone.py``'s runner). The block starts from empty globals, as in ``python -c``: a missing
import fails as it would for a reader, and no block sees what another left behind (seeds, thread
settings, matplotlib state, modules it imported). The fork saves each block the 1.5 s import of
torch, and every block that uses numpy or torch imports them itself.

MkDocs runs the same blocks again at build time (markdown-exec), where a failing block fails the
strict build (``test_build.py``).

Code to take home: the real site's build gives each question page a script and a notebook of the
blocks it shows (``cnnqa.site.downloads``). Every script runs top to bottom in a process forked
from the same server, as a reader's ``python why-pooling.py`` would (one also runs in a new
interpreter, to show the fork hides nothing); every notebook is valid, and its code cells are the
page's blocks as this file finds them, independently of the plugin.
"""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing
import os
import re
import subprocess
import sys
import unittest.mock
from pathlib import Path

import jupytext
import nbformat
import pytest
import realsite
from site_config import QUESTION_FILES
from standalone import run_alone, start_worker

from cnnqa.site.qagraph import read_front_matter

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# The server imports pytest's __main__ once, so that no block's process imports it again, and
# standalone.py, whose run_alone each process unpickles (standard library only). Each process
# starts niced while the real site builds (standalone.start_worker): the browser tests wait for it.
# sympy too: torch 2.13 imports it on first use of .backward(gradient) and F.max_unpool2d, which
# would cost each such block half a second or more.
PRELOAD = ["__main__", "numpy", "torch", "sympy", "cnnqa", "standalone"]
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
PAGES = [path.stem for path in QUESTION_FILES]
DISTRIBUTIONS = importlib.metadata.packages_distributions()  # import name -> pip name (slow: once)


def page_blocks(page: str) -> list[str]:
    """The sources of the blocks a question page shows, in order."""
    return [source for where, source in BLOCKS if where.startswith(f"questions/{page}.md:")]


@pytest.fixture(scope="module")
def pool():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    # As a reader runs them: unmeasured. (The server would otherwise start coverage, and write
    # its data only after pytest-cov has combined the rest.) One thread each: two of them share
    # the two cores with the browser tests, and idle threads that spin for work would steal them.
    with unittest.mock.patch.dict(os.environ):
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
        os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        build = json.loads(os.environ.get(realsite.ENV_VAR, "{}"))
        pool = context.Pool(WORKERS, initializer=start_worker, initargs=(build.get("done"),), maxtasksperchild=1)
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


def downloads(site_dir: Path, page: str) -> tuple[Path, Path]:
    return site_dir / "questions" / f"{page}.py", site_dir / "questions" / f"{page}.ipynb"


@pytest.fixture(scope="module")
def script_results(pool, served_site):
    """Start every page's script at once (after the blocks), each in a process forked from the server."""
    _, site_dir, _ = served_site
    return {page: pool.apply_async(run_alone, (f"{page}.py", downloads(site_dir, page)[0].read_text())) for page in PAGES}


@pytest.mark.parametrize("page", PAGES)
def test_page_links_its_script_and_notebook_and_they_hold_its_blocks(served_site, script_results, page):
    """(Asking for ``script_results`` starts the scripts running while these checks go on.)"""
    base_url, site_dir, _ = served_site
    html = (site_dir / "questions" / page / "index.html").read_text()
    script, notebook = downloads(site_dir, page)
    for file in (script, notebook):
        assert f'<a download href="../{file.name}">' in html, f"{page}: no download link to {file.name}"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert code == [source.rstrip("\n") for source in page_blocks(page)] != []
    header = nb.cells[0].source
    title = read_front_matter((REPO / "docs" / "questions" / f"{page}.md").read_text())["question"]
    assert header.startswith(f"# {title}\n") and f"<{base_url}questions/{page}/>" in header
    imported = set(re.findall(r"^(?:from|import) +(\w+)", "".join(page_blocks(page)), re.M))
    needed = {DISTRIBUTIONS.get(name, [name])[0] for name in imported - set(sys.stdlib_module_names) - {"cnnqa"}}
    pip = re.search(r"`pip install ([\w -]+)`", header)[1].split()
    assert needed <= set(pip), header
    assert ("cnnqa" in imported) == ("`cnnqa` package" in header), header
    as_script = jupytext.reads(script.read_text(), fmt="py:percent")
    assert [cell.source for cell in as_script.cells if cell.cell_type == "code"] == code


@pytest.mark.parametrize("page", PAGES)
def test_page_script_runs_top_to_bottom(script_results, page):
    code, output = script_results[page].get(timeout=600)
    assert code == 0, f"{page}.py exited with {code}:\n{output[-3000:]}"


def test_a_page_script_runs_in_a_new_interpreter(served_site, tmp_path):
    """The forked runs above start with numpy and torch imported; a reader's python starts bare."""
    _, site_dir, _ = served_site
    script = downloads(site_dir, "input-output-pooling-layer")[0]
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip(), "the script printed nothing: its blocks did not run"
