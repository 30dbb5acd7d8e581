"""The plugin inside a real `mkdocs build --strict`: the real site, and small sites made here."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from site_config import QUESTION_FILES, REPO, plugin_config, real_graph

LEVELS = ["Intuition", "Code", "Math"]


class Html(HTMLParser):
    """Collects what the tests look at: tab labels, h1 text, links and resources."""

    def __init__(self, text: str):
        super().__init__()
        self.labels, self.h1, self.links, self.resources = [], [], [], []
        self._in = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for", "").startswith("__tabbed"):
            self._in = ("labels", "")
        elif tag == "h1":
            self._in = ("h1", "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "preload", "modulepreload", "icon"):
            self.resources.append(a["href"])

    def handle_data(self, data):
        if self._in:
            self._in = (self._in[0], self._in[1] + data)

    def handle_endtag(self, tag):
        if self._in and tag in ("label", "h1"):
            getattr(self, self._in[0]).append(self._in[1].strip())
            self._in = None


def page_html(site: Path, url: str) -> Html:
    path = site / url
    return Html((path / "index.html" if path.is_dir() else path).read_text())


# --- the real site -----------------------------------------------------------------------------


def test_strict_build_of_the_real_site_has_no_warnings(served_site):
    *_, result = served_site
    assert result.returncode == 0
    assert not re.search(r"^(WARNING|ERROR)", result.stderr, re.MULTILINE), result.stderr


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.stem)
def test_question_page_has_the_three_levels_in_order(path):
    text = path.read_text()
    tabs = re.findall(r"^/// tab \| (.+)$", text, re.MULTILINE)
    assert tabs == LEVELS, f"{path.name}: tabs {tabs}"
    bodies = re.split(r"^/// tab \| .+$", text, flags=re.MULTILINE)[1:]
    for level, body in zip(LEVELS, bodies):
        words = re.sub(r"```.*?```|///", " ", body, flags=re.DOTALL).split()
        assert len(words) >= 60, f"{path.name}: the {level} tab has only {len(words)} words of prose"
    assert re.search(r"```python", bodies[1]), f"{path.name}: the Code tab has no Python block"
    assert re.search(r"\$\$", bodies[2]), f"{path.name}: the Math tab has no displayed formula"


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.stem)
def test_built_question_page_is_titled_by_its_question_with_tabs_and_graph_links(served_site, path):
    _, site, _ = served_site
    graph = real_graph()
    qid = path.stem
    html = page_html(site, f"questions/{qid}/")
    assert html.h1 == [graph.questions[qid].question]
    assert [label for label in html.labels] == LEVELS
    linked = {Path(urlsplit(urljoin(f"/questions/{qid}/", href)).path).name for href in html.links}
    for neighbour in (*graph.questions[qid].parents, *graph.children[qid]):
        assert neighbour in linked, f"{qid} does not link to {neighbour}"


def test_navigation_follows_the_graph_walk(served_site):
    _, site, _ = served_site
    text = (site / "index.html").read_text()
    nav = text[text.index('class="md-nav md-nav--primary"') :]
    order = []
    for tag in re.findall(r"<a [^>]*md-nav__link[^>]*>", nav):
        href = re.search(r'href="questions/([\w-]+)/"', tag)
        if href is None:
            continue
        href = href.group(1)
        if href not in order:
            order.append(href)
    assert order == real_graph().walk()


def map_of(text: str) -> tuple[str, list[str], list[str]]:
    """How the map came (``svg`` drawn at build time, or ``source`` for the browser), its node
    labels and its link targets."""
    (drawing,) = re.findall(r'<div class="cnnqa-map"[^>]*>(.*?)</div>\s*<details', text, re.DOTALL)
    if drawing.startswith("<svg"):
        labels = [unescape(label) for label in re.findall(r'<span class="nodeLabel"><p>(.*?)</p></span>', drawing)]
        return "svg", labels, re.findall(r'<a xlink:href="([^"]*)"', drawing)
    source = unescape(re.fullmatch(r'<pre class="cnnqa-map__source">(.*)</pre>', drawing, re.DOTALL).group(1))
    labels = [label.replace("#quot;", '"') for label in re.findall(r'^\s+n\d+\["(.*)"\]$', source, re.MULTILINE)]
    return "source", labels, re.findall(r'^\s+click n\d+ "(.*)"$', source, re.MULTILINE)


def test_home_map_has_one_clickable_node_per_question_page(served_site):
    _, site, _ = served_site
    _, labels, targets = map_of((site / "index.html").read_text())
    graph = real_graph()
    assert sorted(labels) == sorted(q.question for q in graph.questions.values())
    assert len(targets) == len(QUESTION_FILES)
    for target in targets:
        assert (site / target / "index.html").is_file(), target


# The nine questions the issues added beyond the original 25 (gradients and training; the
# convolution variants): the map's legibility tests in test_browser.py then cover all 34.
ADDED = ["how-conv-layer-learns", "pooling-gradients", "train-small-cnn", "deep-plain-stacks", "transposed-conv",
         "dilated-conv", "receptive-field", "pointwise-depthwise", "global-average-pooling"]


def test_the_added_questions_are_in_the_map_marked_added_and_reachable_from_the_root():
    graph = real_graph()
    assert sorted(qid for qid, q in graph.questions.items() if q.added) == sorted(ADDED)
    assert set(ADDED) <= set(graph.walk())
    assert len(graph.questions) == 25 + len(ADDED)


def test_home_map_has_a_legend_of_the_parts_in_use_and_colours_every_node_by_part(served_site):
    _, site, _ = served_site
    text = (site / "index.html").read_text()
    graph = real_graph()
    legend = re.findall(r'<li><span class="cnnqa-swatch (part\d|added)"></span>([^<]*)</li>', text)
    titles = plugin_config()["parts"]
    added = sum(q.added for q in graph.questions.values())
    expected = [(f"part{i}", titles[part]) for i, part in graph.parts_used()]
    expected += [("added", f"Added beyond the original {len(graph.questions) - added}")] if added else []
    assert legend == expected
    assert len(legend) >= 4, "the 25 questions span four parts of the course"
    outline = re.findall(r'<a class="(part\d)(?: added)?" href="questions/([\w-]+)/"', text)
    assert sorted({qid for _, qid in outline}) == sorted(graph.questions)  # a page with two parents: twice
    assert all(graph.parts[int(cls[4:])] == graph.part[qid] for cls, qid in outline)


def test_pages_without_a_diagram_do_not_load_mermaid(served_site):
    _, site, _ = served_site
    for file in site.rglob("*.html"):
        assert "mermaid.min.js" not in "".join(Html(file.read_text()).resources), file


def test_built_site_references_nothing_outside_its_origin(served_site):
    _, site, _ = served_site
    offenders = []
    for file in site.rglob("*.html"):
        for src in Html(file.read_text()).resources:
            if (urlsplit(src).scheme and urlsplit(src).scheme != "data") or src.startswith("//"):  # data: is inline
                offenders.append(f"{file.relative_to(site)}: {src}")
    for file in site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", file.read_text()):
            offenders.append(f"{file.relative_to(site)}: {url}")
    assert not offenders, offenders


# --- small sites: links stay right under any URL style and nesting; broken graphs stop the build


PAGES = {
    "index.md": "# Home\n\n<!-- question-map -->\n",
    "questions/root.md": "---\nquestion: Root?\n---\n\nText.\n",
    "questions/deep/nested/leaf.md": "---\nquestion: Leaf?\nparents: [root]\n---\n\nText.\n",
    "questions/mid.md": "---\nquestion: Mid?\nparents: [root]\n---\n\nText.\n",
}


@pytest.mark.parametrize("directory_urls", [True, False], ids=["directory-urls", "file-urls"])
def test_map_and_page_links_resolve_to_the_real_pages(tiny_site, directory_urls):
    result, site = tiny_site(PAGES, use_directory_urls=directory_urls)
    assert result.returncode == 0, result.stderr
    home = "index.html"
    text = (site / home).read_text()
    how, _, targets = map_of(text)
    assert how == "source"  # prerender_map: never
    (outline_html,) = re.findall(r'<details class="cnnqa-outline" open[^>]*>(.*?)</details>', text, re.DOTALL)
    outline = Html(outline_html).links
    assert len(targets) == 3 and len(outline) == 3
    for href in targets + outline:
        path = site / urlsplit(urljoin("/" + home, href)).path.lstrip("/")
        path = path / "index.html" if path.is_dir() else path
        assert path.is_file(), href
        assert Html(path.read_text()).h1[0] in {"Root?", "Mid?", "Leaf?"}
    # The nested page links back up to its parent and the parent down to it.
    leaf_url = "questions/deep/nested/leaf/" if directory_urls else "questions/deep/nested/leaf.html"
    root_url = "questions/root/" if directory_urls else "questions/root.html"
    assert any("root" in h for h in page_html(site, leaf_url).links)
    assert any("leaf" in h for h in page_html(site, root_url).links)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"questions/mid.md": "---\nquestion: Mid?\nparents: [rot]\n---\n"}, "questions/mid.md: parent 'rot'"),
        ({"questions/mid.md": "---\nparents: [root]\n---\n"}, "questions/mid.md: front matter needs 'question:'"),
        ({"questions/other/mid.md": "---\nquestion: Again?\nparents: [root]\n---\n"}, "duplicate question id 'mid'"),
        (
            {"questions/mid.md": "---\nquestion: Mid?\nparents: [root, leaf]\n---\n",
             "questions/deep/nested/leaf.md": "---\nquestion: Leaf?\nparents: [mid]\n---\n"},
            "the parents form a cycle",
        ),
        ({"questions/mid.md": "---\nquestion: Mid?\n---\n"}, "several questions have no parents"),
        ({"questions/mid.md": "---\nquestion: Mid?\nparents: [root]\n---\n\n# A heading\n"}, "questions/mid.md has its own"),
    ],
    ids=["unknown-parent", "no-question", "duplicate-id", "cycle", "two-roots", "own-h1"],
)
def test_invalid_graph_stops_the_build_naming_the_page(tiny_site, change, message):
    result, _ = tiny_site({**PAGES, **change})
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-3000:]


def test_unreachable_page_stops_the_build_when_the_root_is_configured(tiny_site):
    pages = {**PAGES, "questions/mid.md": "---\nquestion: Mid?\n---\n"}
    result, _ = tiny_site(pages, plugins=[{"cnnqa": {"root": "root", "prerender_map": "never"}}])
    assert result.returncode != 0
    assert "questions/mid.md: question 'mid' is not reachable from the root 'root'" in result.stderr


def test_plugin_needs_the_sites_map_script(tiny_site):
    result, _ = tiny_site(PAGES, extra_javascript=[])
    assert result.returncode != 0
    assert "needs the site's script 'javascripts/mermaid.js' in extra_javascript" in result.stderr


@pytest.mark.parametrize(
    "parts, message",
    [
        ({"network": "The network"}, "questions/mid.md: 'part:' must be one of network, got 'pool'"),
        ({"network": 3}, "'parts' maps each part's id to its title, both text"),
    ],
    ids=["unknown-part", "untitled-part"],
)
def test_a_bad_part_stops_the_build(tiny_site, parts, message):
    pages = {**PAGES, "questions/mid.md": "---\nquestion: Mid?\nparents: [root]\npart: pool\n---\n"}
    pages["questions/root.md"] = "---\nquestion: Root?\npart: network\n---\n"
    result, _ = tiny_site(pages, plugins=[{"cnnqa": {"parts": parts, "prerender_map": "never"}}])
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-3000:]


def test_prerender_always_without_a_browser_stops_the_build(tiny_site, monkeypatch):
    monkeypatch.setenv("CNNQA_CHROMIUM", "/no/such/chromium")
    result, _ = tiny_site(PAGES, plugins=[{"cnnqa": {"prerender_map": "always"}}])
    assert result.returncode != 0
    assert "CNNQA_CHROMIUM='/no/such/chromium' is not an executable file" in result.stderr


@pytest.mark.parametrize("path", sorted((REPO / "docs").rglob("*.md")), ids=lambda p: p.stem)
def test_every_python_block_on_the_site_prints_through_markdown_exec(path):
    """Output shown on a page comes from running its block at build time, never typed by hand."""
    fences = re.findall(r"^```(?:python|py)\b(.*)$", path.read_text(), re.MULTILINE)
    hand_written = [info for info in fences if 'exec="on"' not in info]
    assert not hand_written, f"{path.name}: python fences without exec=\"on\": {hand_written}"


def test_corrections_page_links_every_proof_and_nothing_else(served_site):
    """Every fix-* anchor on a question page is a row's proof on the Corrections page, and back.

    A proof is a heading that states what is true, or a "A common claim: ..." callout; the
    Corrections page keeps the record of the original notes' mistakes, the pages never cite them.
    """
    _, site_dir, _ = served_site
    proofs = {}
    for path in QUESTION_FILES:
        html = (site_dir / "questions" / path.stem / "index.html").read_text()
        for tag, anchor, after in re.findall(r'<(\w+)[^>]*\bid="(fix-[\w-]+)"[^>]*>(.{0,200})', html, re.DOTALL):
            proofs[f"{path.stem}#{anchor}"] = (tag, after)
    listed = set(re.findall(r"\(\.\./questions/([\w-]+)\.md#(fix-[\w-]+)\)", (REPO / "docs/reference/corrections.md").read_text()))
    listed = {f"{page}#{anchor}" for page, anchor in listed}
    assert len(proofs) >= 20, f"expected the corrections' proofs on the question pages, found {sorted(proofs)}"
    assert sorted(proofs.keys() - listed) == [], "proofs missing from the Corrections page"
    assert sorted(listed - proofs.keys()) == [], "the Corrections page links proofs that do not exist"
    for proof, (tag, after) in proofs.items():
        callout = tag == "div" and re.match(r'\s*<p class="admonition-title">A common claim: ', after)
        assert re.fullmatch(r"h[2-6]", tag) or callout, f"{proof}: a proof is a heading or a 'A common claim:' callout"


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.stem)
def test_question_page_speaks_to_the_reader_not_about_the_notes(path):
    """The Corrections page keeps the record of the original notes; a question page never cites them."""
    text = path.read_text()
    mentions = re.findall(r"(?i)[^\n]{0,40}\b(?:the|these|original|study) notes\b[^\n]{0,40}|[^\n]{0,40}\bnotes'[^\n]{0,40}", text)
    assert not mentions, f"{path.name} mentions the notes: {mentions}"


def test_without_chromium_the_map_is_left_to_the_browser_unless_it_must_be_drawn(monkeypatch, tmp_path):
    """prerender_map: auto falls back to the page's source; always stops the build."""
    from mkdocs.exceptions import PluginError

    from cnnqa.site import mkdocs_plugin

    monkeypatch.setattr(mkdocs_plugin.chromium, "find_chromium", lambda: None)
    plugin = mkdocs_plugin.CnnqaPlugin()
    plugin.docs_dir, plugin.cache_dir = tmp_path, tmp_path
    for mode in ("auto", "never"):
        plugin.load_config({"prerender_map": mode})
        assert plugin._svg("flowchart LR") is None
    plugin.load_config({"prerender_map": "always"})
    with pytest.raises(PluginError, match="prerender_map is 'always' but no Chromium was found"):
        plugin._svg("flowchart LR")
    monkeypatch.setattr(mkdocs_plugin.chromium, "find_chromium", lambda: "/usr/bin/true")
    with pytest.raises(PluginError, match="mermaid.min.js is missing: run `make setup`"):
        plugin._svg("flowchart LR")
