"""The browser-test harness: Debian's Chromium driven by Playwright, shared by the browser tests.

- ``browser``: one Chromium for the whole session.
- ``device_context(kind, **options)``: a new context at desktop (1280x900), tablet (768x1024)
  or phone (390x844) size (phone: mobile + touch), as a Dutch user's browser (locale nl-NL,
  time zone Europe/Amsterdam), with the console watched: a page error or a console error
  (e.g. a Content-Security-Policy refusal) fails the test at ``check_page``. Every browser
  test makes its contexts here.
- ``check_page(page, name)``: the checks every page gets, in one call: axe-core (from npm,
  injected by the test; 0 violations allowed), touch targets of at least 44 px, no console
  errors, and a screenshot written to ``test-artifacts/screenshots/<name>.png``.
- ``assert_touch_targets(page)`` and ``shoot(page, name)`` on their own.

Chromium draws a date field (dd-mm-jjjj or mm/dd/yyyy) in the browser's own language, which a
context's locale does not change: the browser starts with LANGUAGE=nl and needs Chromium's
Dutch language pack (Debian: chromium-l10n, installed by ``.ci/run``).

axe-core is a test-only npm package (tests/e2e/package.json + package-lock.json, installed
into the git-ignored tests/e2e/node_modules by ``.ci/run`` with ``npm ci``; the fixture runs
the same ``npm ci`` once when it is missing locally).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
E2E = Path(__file__).parent
AXE_JS = E2E / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
# Chromium's Dutch language pack (Debian: chromium-l10n, next to the browser under /usr/lib;
# /usr/bin/chromium is a launcher script): without it the browser falls back to en-US
DUTCH_PAKS = (
    Path(os.path.realpath(CHROMIUM)).parent / "locales" / "nl.pak",
    Path("/usr/lib/chromium/locales/nl.pak"),
)
DUTCH = {"locale": "nl-NL", "timezone_id": "Europe/Amsterdam"}
SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1},
    "tablet": {"viewport": {"width": 768, "height": 1024}, "device_scale_factor": 1},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
MIN_TARGET_PX = 44
# axe-core rules: the WCAG 2.x A/AA rule sets plus best practices
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("CI needs Debian's chromium (apt-get install chromium)")
        pytest.skip("chromium not installed")
    if not any(pak.exists() for pak in DUTCH_PAKS):
        pytest.fail(
            "Chromium's Dutch language pack is missing (apt-get install chromium-l10n): "
            "date fields would read mm/dd/yyyy"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            env={**os.environ, "LANGUAGE": "nl"},  # the browser's own language: date fields
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed from npm by ``npm ci`` (test-only)."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is missing and npm is not installed: run `npm ci` in tests/e2e")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(E2E)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_JS.read_text(encoding="utf-8")


def _watch_console(page: Any) -> None:
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        # the error pages themselves answer 4xx on purpose: Chromium logs that as an error
        url = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and url == page.url:
            return
        errors.append(f"{msg.text} ({url})")

    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", on_console)
    page.console_errors = errors


@pytest.fixture
def device_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """``device_context("desktop"|"tablet"|"phone", **playwright_context_options)`` -> a new
    context in Dutch (nl-NL, Europe/Amsterdam); its pages record console errors
    (``page.console_errors``). Closed after the test."""
    made: list[Any] = []

    def make(kind: str, **options: Any) -> Any:
        ctx = browser.new_context(**{**SIZES[kind], **DUTCH, **options})
        ctx.on("page", _watch_console)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (injected through the DevTools
    protocol, so the page's own Content-Security-Policy stays as strict as in production)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source + "\n;0")
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})",
        AXE_TAGS,
    )
    return list(result["violations"])


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(n["target"]) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


TOUCH_TARGETS_JS = """
(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const small = [];
  for (const el of document.querySelectorAll(sel)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;          // not rendered
    if (el.closest('[inert], [hidden], dialog:not([open])')) continue;
    if (el.matches('.utrecht-skip-link') && box.height <= 1) continue;  // until focused
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      // the target is the whole option row: the input and its label
      const row = el.closest('.app-choice, .utrecht-form-field, label');
      if (row) box = row.getBoundingClientRect();
    }
    if (el.matches('a') && el.parentElement) {
      // a link inside a sentence is exempt (WCAG 2.5.8 "inline")
      const text = Array.from(el.parentElement.childNodes)
        .filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
      if (text.length > 0) continue;
    }
    if (box.height < min || box.width < min) {
      const id = el.id ? '#' + el.id : el.tagName.toLowerCase() +
        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
      small.push(`${id} "${(el.innerText || el.value || '').trim().slice(0, 30)}" ` +
                 `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
"""


def assert_touch_targets(page: Any, min_px: int = MIN_TARGET_PX) -> None:
    """Every visible control is at least ``min_px`` square (inline links in text excepted)."""
    small = page.evaluate(TOUCH_TARGETS_JS, min_px)
    assert small == [], f"touch targets under {min_px} px on {page.url}:\n" + "\n".join(small)


def shoot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """A screenshot at test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def check_page(axe_source: str) -> Callable[..., Path]:
    """``check_page(page, name)``: axe-core 0 violations, touch targets >= 44 px, no console
    errors so far, and a screenshot; returns the screenshot's path."""

    def check(page: Any, name: str, *, full_page: bool = True, touch: bool = True) -> Path:
        page.wait_for_load_state("load")
        violations = run_axe(page, axe_source)
        assert violations == [], f"axe-core on {name} ({page.url}):\n" + format_violations(
            violations
        )
        if touch:
            assert_touch_targets(page)
        errors = getattr(page, "console_errors", [])
        assert errors == [], f"console errors on {name}: {errors}"
        return shoot(page, name, full_page=full_page)

    return check
