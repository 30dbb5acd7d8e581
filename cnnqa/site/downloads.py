"""A question page's code to take home: the Python blocks it shows, as a script and a notebook.

The blocks are those a reader sees and can copy: fenced ``python`` blocks with a ``source=``
option (markdown-exec shows their source). Blocks without it only draw a picture at build time
and are left out. The notebook is built with nbformat; the script is the same notebook written
by jupytext in its "percent" format, which runs top to bottom as plain Python.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from dataclasses import dataclass

import jupytext
import nbformat

FENCE_OPEN = re.compile(r"^(?P<ticks>`{3,})(?P<lang>[\w-]*)(?P<info>.*)$")
BLOCK_OPEN = re.compile(r"^/// *(?P<kind>[\w-]+)(?: *\| *(?P<title>.*?))? *$")  # pymdownx.blocks
HEADING = re.compile(r"^#{2,6} +(?P<title>.+?)(?: *\{[^}]*\})? *$")
LEAD = re.compile(r"^\*\*(?P<title>[^*\n]+?)\.?\*\*")  # a paragraph's bold lead-in: "**Cheaper layers.** ..."


@dataclass(frozen=True)
class Block:
    """One Python block a page shows: its code, the tab it sits in and the section above it."""

    code: str
    tab: str | None = None
    section: str | None = None


def shown_blocks(markdown: str) -> list[Block]:
    """The page's Python blocks whose source it shows (``source=`` given), in order.

    Examples
    --------
    >>> page = '''/// tab | Code
    ... #### Two plus two
    ... ```python exec="on" source="above" result="text"
    ... print(2 + 2)
    ... ```
    ... ```python exec="on" html="true"
    ... print("<svg/>")
    ... ```
    ... ///'''
    >>> shown_blocks(page)
    [Block(code='print(2 + 2)\\n', tab='Code', section='Two plus two')]
    """
    blocks: list[Block] = []
    tab, heading, callouts = None, None, []  # where we are: the tab, its last heading, open callouts
    lines = iter(markdown.splitlines(keepends=True))
    for line in lines:
        fence = FENCE_OPEN.match(line.rstrip("\n"))
        if fence:
            closing = re.compile(rf"^{fence['ticks']}`* *$")
            body = []
            for inner in lines:
                if closing.match(inner.rstrip("\n")):
                    break
                body.append(inner)
            if fence["lang"] == "python" and "source=" in fence["info"]:
                blocks.append(Block("".join(body), tab, callouts[-1] if callouts else heading))
            continue
        opened = BLOCK_OPEN.match(line.rstrip("\n"))
        if opened and opened["kind"] == "tab":
            tab, heading, callouts = opened["title"], None, []
        elif opened:
            callouts.append(opened["title"] or opened["kind"].capitalize())
        elif line.strip() == "///":
            if callouts:
                callouts.pop()
        elif HEADING.match(line) or LEAD.match(line):
            heading = (HEADING.match(line) or LEAD.match(line))["title"]
    return blocks


def requirements(blocks: list[Block]) -> list[str]:
    """The distributions the blocks import, outside the standard library, sorted.

    Examples
    --------
    >>> requirements([Block("import math\\nimport numpy as np\\nfrom torch import nn\\n")])
    ['numpy', 'torch']
    """
    names = set()
    for block in blocks:
        for node in ast.walk(ast.parse(block.code)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    installed = _distributions()
    return sorted({installed.get(name, [name])[0] for name in names - set(sys.stdlib_module_names)})


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """Import name -> distribution names of what is installed (a scan of every package: once)."""
    return importlib.metadata.packages_distributions()


def notebook(title: str, url: str, blocks: list[Block], install: str) -> nbformat.NotebookNode:
    """A notebook of the blocks, each after a line naming where it sits on the page.

    The first cell names the page, its address and what to install; ``install`` is that advice,
    in Markdown.
    """
    v4 = nbformat.v4
    header = f"# {title}\n\nThe code of the page <{url}>, block by block as the page shows it.\n\n{install}"
    cells = [v4.new_markdown_cell(header)]
    for block in blocks:
        where = " · ".join(part for part in (block.tab if block.tab != "Code" else None, block.section) if part)
        if where:
            cells.append(v4.new_markdown_cell(f"**{where}**"))
        cells.append(v4.new_code_cell(block.code.rstrip("\n")))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def write_notebook(nb: nbformat.NotebookNode) -> str:
    """The notebook as ``.ipynb`` JSON."""
    return nbformat.writes(nb)


def write_script(nb: nbformat.NotebookNode) -> str:
    """The notebook as a plain Python script (jupytext's percent format: Markdown as comments)."""
    nb = nbformat.from_dict(nb)
    nb.metadata["jupytext"] = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}
    return jupytext.writes(nb, fmt="py:percent")
