"""MkDocs plugin: turns the pages' front matter into the site's question map and navigation.

Listed in ``mkdocs.yml`` as ``cnnqa`` (an entry point of this package). It

* builds the :class:`~cnnqa.qagraph.QuestionGraph` from every page under ``questions_dir`` and
  stops the build, naming the page, when the graph is invalid;
* replaces ``<!-- question-map -->`` on a page with the Mermaid map (each node a link computed
  from the real page URLs) and the same map as a nested list;
* titles each question page with its question, and links it to the questions it builds on and
  the ones that lead on from it;
* orders the navigation by walking the graph from its root;
* loads the mermaid2 plugin's local Mermaid script on every page, so that instant navigation to
  the map never leaves Material to fetch Mermaid from elsewhere.
"""

from __future__ import annotations

import posixpath
import re

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from cnnqa.qagraph import GraphError, QuestionGraph, markdown_link_text, read_front_matter

MAP_MARKER = "<!-- question-map -->"
# A top-down tree of 25 questions is wide: wrap labels narrowly and pack nodes tightly so that the
# map stays legible when it is scaled to the page. (A per-diagram directive: Material's own
# mermaid.initialize settings ignore plugin options.)
MAP_LAYOUT = '%%{init: {"flowchart": {"wrappingWidth": 120, "nodeSpacing": 12, "rankSpacing": 40, "padding": 6}}}%%\n'


class CnnqaConfig(Config):
    questions_dir = opt.Type(str, default="questions")
    root = opt.Optional(opt.Type(str))
    nav_title = opt.Type(str, default="Questions")


class CnnqaPlugin(BasePlugin[CnnqaConfig]):
    def on_config(self, config):
        mermaid = config.plugins.get("mermaid2")
        script = mermaid.config.get("javascript") if mermaid else None
        if not script or re.match(r"[a-z]+:|//", script):
            raise PluginError(
                "cnnqa: the question map needs the mermaid2 plugin with a local script, e.g. "
                f"'mermaid2: {{javascript: assets/vendor/mermaid/mermaid.min.js}}'; got {script!r}"
            )
        self.mermaid_script = script
        return config

    def on_files(self, files: Files, config) -> Files:
        prefix = self.config.questions_dir.strip("/") + "/"
        self.question_files: dict[str, File] = {}
        pages = []
        for file in files.documentation_pages():
            if file.src_uri.startswith(prefix):
                pages.append((file.src_uri, read_front_matter(file.content_string)))
        try:
            self.graph = QuestionGraph.from_pages(pages, root=self.config.root)
        except GraphError as error:
            raise PluginError(f"cnnqa: {error}") from None
        for src_uri, _ in pages:
            self.question_files[posixpath.splitext(posixpath.basename(src_uri))[0]] = files.get_file_from_path(src_uri)
        return files

    def on_nav(self, nav: Navigation, config, files: Files) -> Navigation:
        questions = {f.src_uri for f in self.question_files.values()}

        def without_questions(items):
            kept = []
            for item in items:
                if isinstance(item, Page) and item.file.src_uri in questions:
                    continue
                if isinstance(item, Section):
                    item.children = without_questions(item.children)
                    if not item.children:
                        continue
                kept.append(item)
            return kept

        items = without_questions(nav.items)
        section = Section(self.config.nav_title, [self.question_files[qid].page for qid in self.graph.walk()])
        at = 1 if items and isinstance(items[0], Page) and items[0].is_homepage else 0
        items.insert(at, section)
        _link_parents(items, parent=None)
        pages = _pages_in(items)
        for before, page, after in zip([None, *pages[:-1]], pages, [*pages[1:], None]):
            page.previous_page, page.next_page = before, after
        return Navigation(items, pages)

    def on_page_markdown(self, markdown: str, page: Page, config, files: Files) -> str:
        qid = self._question_id(page)
        if qid is not None:
            q = self.graph.questions[qid]
            page.meta["title"] = q.question
            markdown = self._parents_line(qid, page) + markdown + self._children_section(qid, page)
        if MAP_MARKER in markdown:
            markdown = markdown.replace(MAP_MARKER, self._map(page))
        return markdown

    def on_page_content(self, html: str, page: Page, config, files: Files) -> str:
        if self._question_id(page) is not None and re.search(r"<h1[\s>]", html):
            raise PluginError(
                f"cnnqa: {page.file.src_uri} has its own top-level '# ' heading; a question page "
                "is titled by its 'question:' front matter, so remove the heading"
            )
        return html

    @event_priority(-100)  # after mermaid2 has added its script to the pages with a diagram
    def on_post_page(self, output: str, page: Page, config) -> str:
        name = posixpath.basename(self.mermaid_script)
        if re.search(r"<script[^>]*\bsrc=\"[^\"]*" + re.escape(name), output):
            return output
        src = get_relative_url(self.mermaid_script, page.url)
        return output.replace("</body>", f'<script src="{src}"></script>\n</body>', 1)

    def _question_id(self, page: Page) -> str | None:
        qid = posixpath.splitext(posixpath.basename(page.file.src_uri))[0]
        file = self.question_files.get(qid)
        return qid if file is not None and file.src_uri == page.file.src_uri else None

    def _rel_src(self, qid: str, page: Page) -> str:
        """The path of question ``qid``'s Markdown file relative to ``page``'s."""
        target = self.question_files[qid].src_uri
        return posixpath.relpath(target, posixpath.dirname(page.file.src_uri) or ".")

    def _md_link(self, qid: str, page: Page) -> str:
        """A Markdown link from ``page`` to question ``qid``; MkDocs turns it into the real URL."""
        title = markdown_link_text(self.graph.questions[qid].question)
        return f"[{title}]({self._rel_src(qid, page)})"

    def _parents_line(self, qid: str, page: Page) -> str:
        parents = self.graph.questions[qid].parents
        if not parents:
            return ""
        links = " · ".join(self._md_link(p, page) for p in parents)
        return f"**Builds on:** {links}\n{{ .cnnqa-parents }}\n\n"

    def _children_section(self, qid: str, page: Page) -> str:
        children = self.graph.children[qid]
        if not children:
            return ""
        items = "\n".join(f"- {self._md_link(c, page)}" for c in children)
        return f"\n\n## Where this leads {{ #leads-on }}\n\n{_div('cnnqa-children', items)}"

    def _map(self, page: Page) -> str:
        mermaid = MAP_LAYOUT + self.graph.mermaid(lambda qid: get_relative_url(self.question_files[qid].url, page.url))
        outline = self.graph.nested_list(lambda qid: self._rel_src(qid, page))
        return f"```mermaid\n{mermaid}\n```\n\n{_div('cnnqa-outline', outline)}"


def _div(css_class: str, markdown: str) -> str:
    """Markdown wrapped in a ``<div>`` with a class (needs the md_in_html extension)."""
    return f'<div class="{css_class}" markdown>\n\n{markdown}\n\n</div>\n'


def _link_parents(items, parent) -> None:
    for item in items:
        item.parent = parent
        if isinstance(item, Section):
            _link_parents(item.children, item)


def _pages_in(items) -> list[Page]:
    pages = []
    for item in items:
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, Section):
            pages += _pages_in(item.children)
    return pages
