"""The explorer page (docs/explorer.md) in headless Chromium: its address, its arithmetic (which
must be cnnqa.shapes', refusals and messages included), its animation and its typeset formula.

The address's keys are the site's notation (H, W, F, S, P, D, C, K, A), never a lower-case ``h``:
Material's search highlighting would read ``?h=9`` as a word and mark every 9 on the page.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from browsing import watched_page
from playwright.sync_api import Page, expect

from cnnqa import shapes

pytestmark = pytest.mark.browser

CONV = {"mode": "conv", "H": "9", "W": "7", "F": "3", "S": "2", "P": "1", "D": "1", "C": "3", "K": "8"}
# Keeps the ids of the explorer's live setInterval timers (the animation's) in window.__liveIntervals.
COUNT_INTERVALS = """
(() => {
  const live = new Set(), set = window.setInterval, clear = window.clearInterval;
  window.setInterval = function (...args) {
    const id = set.apply(this, args);
    if (new Error().stack.includes("/javascripts/explorer.js")) live.add(id);
    return id;
  };
  window.clearInterval = function (id) { live.delete(id); return clear.call(this, id); };
  window.__liveIntervals = live;
})();
"""
# The address's key -> the id of its control.
CONTROLS = {"H": "h", "W": "w", "F": "k", "S": "s", "P": "p", "D": "d", "C": "cin", "K": "cout", "A": "op"}


def open_explorer(page: Page, query: str) -> None:
    page.goto(f"explorer/?{query}")
    expect(page.locator(".cnnqa-explorer__controls")).to_be_attached()


def query_of(page: Page) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def controls(page: Page) -> dict[str, str]:
    values = {key: page.input_value(f"#cnnqa-explorer-{control}") for key, control in CONTROLS.items()}
    values["mode"] = page.locator("input[name=mode]:checked").get_attribute("value")
    return values


def reported(page: Page) -> dict[str, int]:
    output = page.locator('[data-report="output"]')
    return {
        "height": int(output.get_attribute("data-height")),
        "width": int(output.get_attribute("data-width")),
        "channels": int(output.get_attribute("data-channels")),
        "params": int(page.locator('[data-report="params"]').get_attribute("data-value")),
        "macs": int(page.locator('[data-report="macs"]').get_attribute("data-value")),
    }


def conv_expected(h: int, w: int, k: int, s: int, p: int, d: int, cin: int, cout: int) -> dict[str, int]:
    height = shapes.conv_output_size(h, k, stride=s, padding=p, dilation=d)
    width = shapes.conv_output_size(w, k, stride=s, padding=p, dilation=d)
    return {
        "height": height,
        "width": width,
        "channels": cout,
        "params": shapes.conv2d_num_params(cin, cout, k),
        "macs": shapes.conv2d_macs(cin, cout, k, (height, width)),
    }


def window_position(page: Page) -> tuple[str | None, str | None, str | None]:
    """Where the kernel's window and the output cell being written are drawn."""
    current = page.locator(".cnnqa-explorer__drawing .cnnqa-current")
    return (
        page.locator(".cnnqa-explorer__drawing .cnnqa-window").get_attribute("transform"),
        current.get_attribute("x"),
        current.get_attribute("y"),
    )


def test_the_address_round_trips_and_the_numbers_are_cnnqas(page):
    open_explorer(page, "&".join(f"{key}={value}" for key, value in CONV.items()))
    assert {key: value for key, value in controls(page).items() if key in CONV} == CONV
    for key in ("A",):  # convolution has no output padding: its control is hidden
        expect(page.locator(f"#cnnqa-explorer-{CONTROLS[key]}")).to_be_hidden()
    expect(page.locator("#cnnqa-explorer-ceil")).to_be_hidden()
    assert reported(page) == conv_expected(9, 7, 3, 2, 1, 1, 3, 8)
    assert reported(page)["params"] == shapes.conv2d_num_params(3, 8, 3)

    page.fill("#cnnqa-explorer-h", "12")
    page.select_option("#cnnqa-explorer-p", "2")
    expect(page).to_have_url(re.compile(r"[?&]H=12(&|$)"))
    assert query_of(page) == {**CONV, "H": "12", "P": "2"}
    changed = conv_expected(12, 7, 3, 2, 2, 1, 3, 8)
    assert reported(page) == changed

    page.goto(page.url)  # the copied link, opened afresh
    expect(page.locator('[data-report="output"]')).to_have_attribute("data-height", str(changed["height"]))
    assert {key: value for key, value in controls(page).items() if key in CONV} == {**CONV, "H": "12", "P": "2"}
    assert reported(page) == changed


def test_a_refused_setting_shows_cnnqas_message_instead_of_the_drawing(page):
    with pytest.raises(ValueError) as same:
        shapes.conv_output_size(7, 3, stride=2, padding="same")
    open_explorer(page, "mode=conv&P=same&S=2")
    error = page.locator(".cnnqa-explorer__error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_be_visible()
    expect(error).to_have_text(str(same.value))
    expect(page.locator(".cnnqa-explorer__results")).to_be_hidden()

    page.fill("#cnnqa-explorer-s", "1")  # with stride 1, "same" is allowed
    expect(error).to_be_hidden()
    expect(page.locator(".cnnqa-explorer__results svg").first).to_be_visible()
    assert reported(page)["height"] == shapes.conv_output_size(7, 3, padding="same")

    with pytest.raises(ValueError) as pool:
        shapes.pool_output_size(7, 3, stride=1, padding=2)
    page.locator("label[for=cnnqa-explorer-mode-max]").click()
    page.select_option("#cnnqa-explorer-p", "2")  # more than half the 3-wide window
    expect(error).to_have_text(str(pool.value))
    expect(page.locator(".cnnqa-explorer__results")).to_be_hidden()
    assert query_of(page) == {"mode": "max", "H": "7", "W": "7", "F": "3", "S": "1", "P": "2", "D": "1", "C": "3", "ceil": "0"}


def test_stepping_moves_the_window_and_reduced_motion_starts_paused(page):
    page.add_init_script(COUNT_INTERVALS)
    page.emulate_media(reduced_motion="reduce")
    open_explorer(page, "mode=conv&H=6&W=6&F=3&S=1&P=0&D=2&C=1&K=1")
    expect(page.locator("button[data-action=play]")).to_have_text("Play")
    expect(page.locator(".cnnqa-explorer")).to_have_attribute("data-playing", "false")
    assert page.evaluate("window.__liveIntervals.size") == 0, "the animation runs under reduced motion"
    start = window_position(page)
    page.locator("button[data-action=forward]").click()
    moved = window_position(page)
    assert moved[0] != start[0] and moved[1] != start[1]
    # A dilated kernel draws its taps D apart.
    taps = page.locator(".cnnqa-explorer__drawing .cnnqa-window__tap")
    expect(taps).to_have_count(9)
    assert float(taps.nth(1).get_attribute("x")) - float(taps.nth(0).get_attribute("x")) == 2 * 10
    page.locator("button[data-action=back]").click()
    assert window_position(page) == start
    page.locator("button[data-action=back]").focus()  # keyboard: the buttons take focus and Enter
    page.keyboard.press("Enter")
    assert window_position(page) != start  # back from the first step wraps to the last


def test_the_formula_is_typeset_with_the_readers_numbers(page):
    open_explorer(page, "mode=conv&H=9&W=7&F=3&S=2&P=1&D=1&C=3&K=8")
    formula = page.locator(".cnnqa-explorer__formula")
    expect(formula.locator(".katex").first).to_be_visible()
    tex = " ".join(formula.locator("annotation").all_text_contents())
    assert "9 + 2\\cdot 1" in tex and "= 5" in tex and "= 4" in tex


def test_on_a_phone_only_the_drawing_scrolls_sideways(browser, served_site):
    with watched_page(browser, served_site[0], viewport={"width": 390, "height": 844}) as page:
        open_explorer(page, "mode=transposed&H=20&W=20&F=7&S=4&P=0&D=3&A=1")
        expect(page.locator(".cnnqa-explorer svg").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_explorer_plays_after_instant_navigation_and_stops_when_left(page):
    page.add_init_script(COUNT_INTERVALS)
    page.goto("questions/output-size-conv-layer/")
    page.evaluate("window.__sameDocument = true")
    page.locator("article a[href*='explorer/']").first.click()
    page.wait_for_url("**/explorer/")
    expect(page.locator('[data-report="output"]')).to_have_attribute("data-height", str(shapes.conv_output_size(7, 3)))
    expect(page.locator("button[data-action=play]")).to_have_text("Pause")  # plays by default
    assert page.evaluate("window.__liveIntervals.size") == 1
    page.wait_for_function("document.querySelector('.cnnqa-explorer').dataset.step !== '0'")
    page.go_back()
    expect(page.locator("article h1")).to_have_text("What is the output size of a convolutional layer?")
    assert page.evaluate("window.__liveIntervals.size") == 0, "the animation kept running off its page"
    assert page.evaluate("window.__sameDocument === true"), "instant navigation did not engage"
