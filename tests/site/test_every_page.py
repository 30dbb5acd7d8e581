"""Every page of the built site in headless Chromium: it loads, requests nothing outside its origin,
logs no error, and each question's Intuition tab shows a picture in both palettes.

Apart from tests/site/test_browser.py so that the two xdist workers can run the two files at once:
this one alone loads every page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cnnqa.site.qagraph import read_front_matter
from site_config import QUESTION_FILES

pytestmark = pytest.mark.browser
QUESTIONS = {p.stem: read_front_matter(p.read_text())["question"] for p in QUESTION_FILES}

# What the Intuition tab's picture looks like to a reader: there, big enough, and drawn in a
# colour that stands out from the page (text and lines follow the palette; photographs load).
INTUITION_PICTURE = """
() => {
  const figure = document.querySelector(".tabbed-block figure");
  if (!figure) return "no picture in the Intuition tab";
  const box = figure.getBoundingClientRect();
  if (box.width < 150 || box.height < 60) return `a picture only ${box.width}x${box.height} px`;
  const image = figure.querySelector("img");
  if (image) return image.complete && image.naturalWidth > 0 ? "ok" : "a photograph that did not load";
  const page = getComputedStyle(document.body).backgroundColor;
  const ink = getComputedStyle(figure.querySelector("svg text")).fill;
  return ink !== page && ink !== "none" ? "ok" : `drawn in ${ink} on ${page}`;
}
"""


def test_every_page_loads_cleanly_and_every_question_shows_a_picture_in_both_palettes(page, served_site):
    """Every page, loaded eight at a time, requests nothing outside and logs no error; every
    question's Intuition tab shows a picture that stands out in the light and the dark palette."""
    _, site, _ = served_site
    urls = sorted("" if p.parent == site else f"{p.parent.relative_to(site).as_posix()}/" for p in site.rglob("index.html"))
    tabs = [page] + [page.context.new_page() for _ in range(7)]
    pictures = {}
    for start in range(0, len(urls), len(tabs)):
        batch = list(zip(tabs, urls[start : start + len(tabs)]))
        for tab, url in batch:
            tab.goto(url, wait_until="commit")
        for tab, url in batch:
            tab.wait_for_load_state("networkidle")
            expect(tab.locator("article"), url).to_be_attached()
            if url.startswith("questions/"):
                light = tab.evaluate(INTUITION_PICTURE)
                tab.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
                pictures[url] = (light, tab.evaluate(INTUITION_PICTURE))
    assert len(urls) > len(QUESTIONS)
    assert len(pictures) == len(QUESTIONS)
    missing = {url: seen for url, seen in pictures.items() if seen != ("ok", "ok")}
    assert not missing, missing
