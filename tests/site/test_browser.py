"""The built site in headless Chromium (Debian's, driven by Playwright; never `playwright install`).

Every test also fails if a page requested anything outside the site's origin or logged an error
to the console (checked when the browser page closes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from cnnqa import chromium
from cnnqa.qagraph import read_front_matter

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = {p.stem: read_front_matter(p.read_text())["question"] for p in (REPO / "docs/questions").rglob("*.md")}
# Material draws Mermaid into a *closed* shadow root, which no selector can enter. Opening every
# shadow root (in the tests only) lets the tests find and click the map's nodes like a reader.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attachShadow.call(this, { ...init, mode: "open" }); };
"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(chromium_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=chromium.ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served_site):
    base_url, _, _ = served_site
    context = browser.new_context(base_url=base_url)
    context.add_init_script(OPEN_SHADOW_ROOTS)
    page = context.new_page()
    outside, errors = [], []
    page.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:")) else outside.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not outside, f"requests outside the site's origin: {outside}"
    assert not errors, f"console errors: {errors}"


def map_nodes(page: Page):
    return page.locator(".mermaid svg g.node")


def checked_tab_label(page: Page) -> str:
    """The label of the selected tab in the page's first tab set."""
    return page.evaluate(
        """() => {
            const input = document.querySelector(".tabbed-set > input:checked");
            return document.querySelector(`label[for="${input.id}"]`).textContent.trim();
        }"""
    )


def test_home_map_renders_one_node_per_question_page(page):
    page.goto("")
    expect(map_nodes(page)).to_have_count(len(QUESTIONS))
    labels = sorted(t.strip() for t in map_nodes(page).all_text_contents())
    assert labels == sorted(QUESTIONS.values())


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_clicking_a_map_node_opens_that_question(page, qid):
    page.goto("")
    map_nodes(page).filter(has_text=QUESTIONS[qid]).click()
    page.wait_for_url(f"**/questions/{qid}/")
    expect(page.locator("article h1")).to_have_text(QUESTIONS[qid])


def test_math_renders_as_typeset_output(page):
    page.goto("questions/definition/")
    formulas = page.locator(".arithmatex")
    assert formulas.count() > 3
    expect(page.locator(".arithmatex:not(:has(.katex))")).to_have_count(0)
    expect(page.locator(".arithmatex .katex-display").first).to_be_attached()


def test_chosen_level_persists_to_the_next_page(page):
    page.goto("questions/definition/")
    assert checked_tab_label(page) == "Intuition"
    page.locator(".tabbed-labels label", has_text="Math").first.click()
    page.evaluate("window.__sameDocument = true")
    page.locator(".cnnqa-children a").first.click()
    page.wait_for_url("**/questions/input-output/")
    assert page.evaluate("window.__sameDocument === true"), "instant navigation did not engage"
    assert checked_tab_label(page) == "Math"


def test_map_renders_after_instant_navigation_from_a_page_without_a_diagram(page):
    page.goto("questions/architecture/", wait_until="networkidle")
    page.evaluate("window.__sameDocument = true")
    page.locator("a.md-header__button.md-logo").click()
    expect(map_nodes(page)).to_have_count(len(QUESTIONS))
    assert page.evaluate("window.__sameDocument === true"), "instant navigation did not engage"
    page.wait_for_load_state("networkidle")


def test_every_page_loads_cleanly(page, served_site):
    _, site, _ = served_site
    for html in sorted(site.rglob("index.html")):
        url = html.parent.relative_to(site).as_posix()
        page.goto("" if url == "." else f"{url}/", wait_until="networkidle")
        expect(page.locator("article")).to_be_attached()


def test_search_finds_a_question(page):
    page.goto("")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("logits")  # Material searches on key events, as a reader types
    results = page.locator(".md-search-result__item")
    expect(results.first).to_be_visible()
    assert "inputs and outputs" in results.first.text_content().lower()


def test_code_blocks_have_copy_buttons_and_palette_toggles_dark(page):
    page.goto("questions/input-output/")
    page.locator(".tabbed-labels label", has_text="Code").first.click()
    expect(page.locator(".tabbed-block pre button.md-code__button").first).to_be_visible()
    scheme = page.evaluate("document.body.dataset.mdColorScheme")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    assert page.evaluate("document.body.dataset.mdColorScheme") != scheme
