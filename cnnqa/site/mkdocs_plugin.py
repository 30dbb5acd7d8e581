"""MkDocs plugin: turns the pages' front matter into the site's question map and navigation.

Listed in ``mkdocs.yml`` as ``cnnqa`` (an entry point of this package). It

* builds the :class:`~cnnqa.site.qagraph.QuestionGraph` from every page under ``questions_dir`` and
  stops the build, naming the page, when the graph is invalid;
* replaces ``<!-- question-map -->`` on a page with the map: a legend of the course's parts,
  the graph drawn left to right with each node a link computed from the real page URLs, and the
  same graph as a nested list folded under it;
* draws that map to SVG at build time in headless Chromium (:mod:`cnnqa.site.prerender`), so that it
  arrives with the page and is clickable at once. With ``prerender_map: auto`` (the default) a
  machine without Chromium builds the page with the map's source instead, and the site's script
  draws it in the reader's browser; ``always`` makes a missing browser an error, ``never`` skips;
* titles each question page with its question, and links it to the questions it builds on and
  the ones that lead on from it;
* orders the navigation by walking the graph from its root;
* gives each question page its code to take home: the Python blocks it shows, as a script and a
  notebook beside the page (:mod:`cnnqa.site.downloads`), linked at the page's foot.

Mermaid itself is loaded by the site's script (``javascripts/mermaid.js``) only on pages that
draw a diagram; the plugin checks that the script is listed in ``extra_javascript``.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import posixpath
import re
from pathlib import Path

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from cnnqa.site import chromium, downloads, prerender
from cnnqa.site.qagraph import GraphError, QuestionGraph, markdown_link_text, read_front_matter

log = logging.getLogger("mkdocs.plugins.cnnqa")

MAP_MARKER = "<!-- question-map -->"
# The site's script that draws the map and loads Mermaid on demand, and where it finds Mermaid
# (both under docs/; javascripts/mermaid.js looks for Mermaid at ../assets/vendor/mermaid/).
MAP_SCRIPT = "javascripts/mermaid.js"
MERMAID_SCRIPT = "assets/vendor/mermaid/mermaid.min.js"
# Left to right, the tree is as deep as the course (about 7 levels) and as tall as it has leaves,
# so it fits the page's width at a legible scale as the questions multiply. The font is the
# site's own, so that labels measured at build time fit the boxes drawn in the reader's browser.
MAP_LAYOUT = (
    '%%{init: {"fontFamily": "-apple-system, BlinkMacSystemFont, Helvetica, Arial, sans-serif", '
    '"flowchart": {"wrappingWidth": 150, "nodeSpacing": 14, "rankSpacing": 28, "padding": 8}}}%%\n'
)


class CnnqaConfig(Config):
    questions_dir = opt.Type(str, default="questions")
    root = opt.Optional(opt.Type(str))
    nav_title = opt.Type(str, default="Questions")
    parts = opt.Type(dict, default={})  # part id -> its title in the map's legend, in course order
    prerender_map = opt.Choice(("auto", "always", "never"), default="auto")


class CnnqaPlugin(BasePlugin[CnnqaConfig]):
    def on_config(self, config):
        scripts = [str(script) for script in config.extra_javascript]
        if MAP_SCRIPT not in scripts:
            raise PluginError(
                f"cnnqa: the question map needs the site's script {MAP_SCRIPT!r} in extra_javascript; "
                f"got {scripts!r}"
            )
        bad = {k: v for k, v in self.config.parts.items() if not (isinstance(k, str) and isinstance(v, str))}
        if bad:
            raise PluginError(f"cnnqa: 'parts' maps each part's id to its title, both text; got {bad!r}")
        self.docs_dir = Path(config.docs_dir)
        self.cache_dir = Path(config.config_file_path or ".").parent / ".cache" / "cnnqa"
        return config

    def on_files(self, files: Files, config) -> Files:
        prefix = self.config.questions_dir.strip("/") + "/"
        self.question_files: dict[str, File] = {}
        pages = []
        for file in files.documentation_pages():
            if file.src_uri.startswith(prefix):
                pages.append((file.src_uri, read_front_matter(file.content_string)))
        try:
            self.graph = QuestionGraph.from_pages(pages, root=self.config.root, parts=list(self.config.parts) or None)
        except GraphError as error:
            raise PluginError(f"cnnqa: {error}") from None
        for src_uri, _ in pages:
            self.question_files[posixpath.splitext(posixpath.basename(src_uri))[0]] = files.get_file_from_path(src_uri)
        self.downloads: dict[str, tuple[str, str]] = {}
        for qid, file in self.question_files.items():
            blocks = downloads.shown_blocks(file.content_string)
            if not blocks:
                continue
            url = (config.site_url or "/") + file.url
            nb = downloads.notebook(self.graph.questions[qid].question, url, blocks, _install_advice(blocks, config))
            stem = posixpath.splitext(file.src_uri)[0]
            for ext, text in ((".py", downloads.write_script(nb)), (".ipynb", downloads.write_notebook(nb))):
                files.append(File.generated(config, stem + ext, content=text))
            self.downloads[qid] = (qid + ".py", qid + ".ipynb")
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
            markdown = (
                self._parents_line(qid, page) + markdown + self._downloads_line(qid) + self._children_section(qid, page)
            )
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

    def _downloads_line(self, qid: str) -> str:
        if qid not in self.downloads:
            return ""
        script, notebook = self.downloads[qid]
        return (
            f"\n\n**Download this page's code:** [{script}]({script}){{ download }} (a Python script) · "
            f"[{notebook}]({notebook}){{ download }} (a Jupyter notebook): every block the page shows, in order.\n"
            "{ .cnnqa-downloads }\n"
        )

    def _children_section(self, qid: str, page: Page) -> str:
        children = self.graph.children[qid]
        if not children:
            return ""
        items = "\n".join(f"- {self._md_link(c, page)}" for c in children)
        return f"\n\n## Where this leads {{ #leads-on }}\n\n{_div('cnnqa-children', items)}"

    def _map(self, page: Page) -> str:
        """The legend, the map (SVG drawn now, or its source for the reader's browser), the outline."""
        source = MAP_LAYOUT + self.graph.mermaid(lambda qid: get_relative_url(self.question_files[qid].url, page.url))
        svg = self._svg(source)
        drawing = svg if svg is not None else f'<pre class="cnnqa-map__source">{html.escape(source)}</pre>'
        outline = self.graph.nested_list(lambda qid: self._rel_src(qid, page), self._outline_classes)
        # Folded once the map is drawn; open for readers whose browser will not draw it.
        details = '<details class="cnnqa-outline" markdown' + ("" if svg is not None else " open") + ">"
        return (
            f"{self._legend()}\n\n"
            f'<div class="cnnqa-map" role="navigation" aria-label="Map of the questions">{drawing}</div>\n\n'
            f"{details}\n<summary>Every question as a list</summary>\n\n{outline}\n\n</details>\n"
        )

    def _outline_classes(self, qid: str) -> str:
        """attr_list classes that give an outline entry the swatch of its part (and of added ones)."""
        classes = [f".part{self.graph.parts.index(self.graph.part[qid])}"] if self.graph.parts else []
        classes += [".added"] if self.graph.questions[qid].added else []
        return f"{{ {' '.join(classes)} }}" if classes else ""

    def _legend(self) -> str:
        items = [
            f'<li><span class="cnnqa-swatch part{index}"></span>{html.escape(self.config.parts[part])}</li>'
            for index, part in self.graph.parts_used()
        ]
        added = sum(q.added for q in self.graph.questions.values())
        if added:
            original = len(self.graph.questions) - added
            items.append(f'<li><span class="cnnqa-swatch added"></span>Added beyond the original {original}</li>')
        return f'<ul class="cnnqa-legend">{"".join(items)}</ul>' if items else ""

    def _svg(self, source: str) -> str | None:
        """The map drawn in headless Chromium, or None where the build leaves it to the reader's browser."""
        if self.config.prerender_map == "never":
            return None
        try:
            executable = chromium.find_chromium()
        except ValueError as error:
            raise PluginError(f"cnnqa: {error}") from None
        if executable is None:
            if self.config.prerender_map == "always":
                raise PluginError(f"cnnqa: prerender_map is 'always' but no Chromium was found: {chromium.INSTALL_HINT}")
            log.info("cnnqa: no Chromium found, so the map is left for the reader's browser to draw (%s)", chromium.INSTALL_HINT)
            return None
        mermaid_js = self.docs_dir / MERMAID_SCRIPT
        if not mermaid_js.is_file():
            raise PluginError(f"cnnqa: {mermaid_js} is missing: run `make setup` to install the front-end assets")
        try:
            (svg,) = prerender.mermaid_to_svg([source], mermaid_js, self.docs_dir / MAP_SCRIPT, executable, self.cache_dir)
        except Exception as error:  # Playwright's and Chromium's errors alike: say what failed, stop
            raise PluginError(f"cnnqa: drawing the question map in {executable} failed: {error}") from error
        return svg


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


def _install_advice(blocks: list[downloads.Block], config) -> str:
    """What a reader installs to run the blocks: Python, the packages they import, and cnnqa."""
    python = importlib.metadata.metadata("cnnqa")["Requires-Python"] or ""
    others = [name for name in downloads.requirements(blocks) if name != "cnnqa"]
    where = f" ({config.repo_url})" if config.repo_url else ""
    advice = f"To run it you need Python {python.lstrip('>=')} or later"
    if others:
        advice += f" with `pip install {' '.join(others)}`"
    if "cnnqa" in downloads.requirements(blocks):
        advice += f", and the `cnnqa` package: in a checkout of the site's repository{where}, `pip install -e \".[pages]\"`"
    return advice + "."
