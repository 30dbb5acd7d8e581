"""Where the build and the browser tests look for Chromium, in the order a user would expect."""

import os
import stat

import pytest

from cnnqa.site import chromium


def executable(path):
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine with no browser anywhere: an empty PATH, no Debian file, no Playwright download."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.delenv(chromium.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(chromium, "DEBIAN", str(tmp_path / "usr-bin-chromium"))
    monkeypatch.setattr(chromium, "_playwright_chromium", lambda: None)
    return tmp_path


def test_none_when_the_machine_has_no_browser(machine):
    assert chromium.find_chromium() is None


def test_the_order_is_variable_then_debian_then_path_then_playwright(machine, monkeypatch):
    playwright = executable(machine / "playwright-chrome")
    monkeypatch.setattr(chromium, "_playwright_chromium", lambda: playwright)
    assert chromium.find_chromium() == playwright
    on_path = executable(machine / "bin" / "google-chrome")
    assert chromium.find_chromium() == on_path
    preferred_on_path = executable(machine / "bin" / "chromium-browser")
    assert chromium.find_chromium() == preferred_on_path
    debian = executable(machine / "usr-bin-chromium")
    assert chromium.find_chromium() == debian
    chosen = executable(machine / "my-chrome")
    monkeypatch.setenv(chromium.ENV_VAR, chosen)
    assert chromium.find_chromium() == chosen


def test_a_variable_naming_no_executable_is_an_error_not_a_fallback(machine, monkeypatch):
    executable(machine / "usr-bin-chromium")
    plain = machine / "not-executable"
    plain.write_text("")
    for value in (str(plain), str(machine / "missing")):
        monkeypatch.setenv(chromium.ENV_VAR, value)
        with pytest.raises(ValueError, match=f"CNNQA_CHROMIUM='{value}' is not an executable file"):
            chromium.find_chromium()


def test_a_non_executable_file_on_the_path_is_passed_over(machine):
    (machine / "bin" / "chromium").write_text("")
    os.chmod(machine / "bin" / "chromium", 0o644)
    assert chromium.find_chromium() is None
