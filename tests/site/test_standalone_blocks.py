"""Every Python block on the site runs when copied out alone: a fresh interpreter, nothing else.

pytest-markdown-docs already runs each block with fresh globals, but in one process, so state a
block leaves behind (random seeds, torch thread settings, the matplotlib backend, imported
modules) could hide a block that fails for a reader who copies it. Here each block gets its own
interpreter, two at a time on the machine's two cores.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def site_blocks() -> list[tuple[str, str]]:
    """(``file:line``, source) of every Python fence under docs/."""
    blocks = []
    for path in sorted((REPO / "docs").rglob("*.md")):
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{path.relative_to(REPO)}:{line}", match.group(1)))
    return blocks


def run_alone(source: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, cwd="/", timeout=300
    )


def test_every_block_runs_in_a_fresh_interpreter():
    blocks = site_blocks()
    assert len(blocks) > 50, f"expected the site's code blocks, found {len(blocks)}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_alone, [source for _, source in blocks]))
    failures = [
        f"{where}: exit {result.returncode}\n{result.stderr[-1500:]}"
        for (where, _), result in zip(blocks, results)
        if result.returncode != 0
    ]
    assert not failures, "\n\n".join(failures)
