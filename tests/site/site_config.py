"""The real site's question pages and the cnnqa plugin's settings, as the tests read them."""

from __future__ import annotations

from pathlib import Path

import yaml

from cnnqa.site.qagraph import QuestionGraph, read_front_matter

REPO = Path(__file__).resolve().parents[2]
QUESTION_FILES = sorted((REPO / "docs" / "questions").rglob("*.md"))


class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml's plain data, passing over its !ENV and !!python tags."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
_AnyTagLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def plugin_config() -> dict:
    """The ``cnnqa`` plugin's entry in mkdocs.yml."""
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_AnyTagLoader)
    (cnnqa,) = [p["cnnqa"] for p in config["plugins"] if isinstance(p, dict) and "cnnqa" in p]
    return cnnqa


def real_graph() -> QuestionGraph:
    pages = [(str(p.relative_to(REPO / "docs")), read_front_matter(p.read_text())) for p in QUESTION_FILES]
    config = plugin_config()
    return QuestionGraph.from_pages(pages, root=config["root"], parts=list(config["parts"]))
