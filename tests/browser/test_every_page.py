"""Every page of every role, in Chromium at 390 px (a phone) and checked four ways:

- nothing scrolls sideways: the document is no wider than the viewport, and no element reaches
  past its right edge (tables become stacked rows, base.html);
- the timeline's and the charts' text is at least 12 CSS px as drawn (an SVG scaled down to the
  screen would shrink its text, so the scale is counted in), at 1280 px too on the main pages;
- axe-core (the copy bundled in axe-playwright-python, nothing fetched) finds no serious or
  critical violation of WCAG 2.1 A and AA;
- the focus ring of every link, button and field reaches 3:1 against the background it is drawn
  on (WCAG 1.4.11);
- every field and button of every form on the page is reached with the Tab key alone, from the
  top of the page (a group of radio buttons as one stop, as the keyboard moves through it).

The pages are the ones tests/web/test_every_page.py walks (tests/web/page_walk.py): every URL of
the resolver, with its ids filled in from the same world, that its table says the role may see.
One browser context per role, signed in through the form once. Screenshots of each role's pages
without ids (its main pages) at 390 and 1280 px go to
test-artifacts/screenshots/every-page/<role>/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.web import page_walk
from tests.web.conftest import PASSWORD
from tests.web.page_walk import HELD, ROLES, arguments_of, every_route, expand, fill
from tests.web.test_every_page import PAGES, PUBLIC, SIGN_IN_PAGE, only_posts

from .journey import SCREENSHOTS, Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

objects = page_walk.objects  # the world whose ids fill in the URLs, a fixture

PHONE, DESKTOP = 390, 1280
MIN_TEXT_PX = 12.0
FOCUS_CONTRAST = 3.0
AXE = Axe()
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
}
SERIOUS = {"serious", "critical"}
# Known failures on pages whose markup is being reworked elsewhere: (role, page name, rule) with
# the reason. Empty when every page passes.
EXPECTED_FAILURES: dict[tuple[str, str, str], str] = {}

# The elements that reach past the right edge of the viewport, as "tag.class#id (right px)".
TOO_WIDE = """() => {
    const limit = document.documentElement.clientWidth + 0.5;
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= limit) continue;
        let clipped = false;  // inside something that scrolls or clips on its own
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') { clipped = true; break; }
        }
        if (!clipped) {
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.classList.length ? '.' + [...el.classList].join('.') : '');
            wide.push(`${name} (${Math.round(box.right)} px)`);
        }
    }
    const words = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = words.nextNode(); node; node = words.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        const right = range.getBoundingClientRect().right;
        if (right > limit && !node.parentElement.closest('.skip')) {
            wide.push(`"${node.textContent.trim().slice(0, 30)}" (${Math.round(right)} px)`);
        }
    }
    return wide.slice(0, 5);
}"""

# The drawn size of every piece of text in the timeline, the charts and any SVG: the computed
# font-size, times the scale of the SVG it sits in (viewBox to the box it is drawn in).
TEXT_SIZES = """() => {
    const sizes = [];
    for (const el of document.querySelectorAll('.timeline *, [class*="chart"] *, svg *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || el.closest('title, desc, .skip, caption')) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;  // not shown
        let size = parseFloat(getComputedStyle(el).fontSize);
        const svg = el.closest('svg');
        if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
            size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        }
        sizes.push([el.textContent.trim().slice(0, 30), Math.round(size * 10) / 10]);
    }
    return sizes;
}"""

# Each focusable element, focused after a key press (so that :focus-visible applies, as for a
# keyboard user): its outline colour against the first opaque background behind it, since the
# outline is drawn outside the element. WCAG's relative luminance and contrast ratio.
FOCUS_RINGS = """(minimum) => {
    const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const c = v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
    };
    const behind = el => {
        for (let up = el.parentElement; up; up = up.parentElement) {
            const c = rgb(getComputedStyle(up).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const weak = [];
    const focusable = document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]');
    for (const el of focusable) {
        if (el.disabled || el.getClientRects().length === 0) continue;
        el.focus();
        if (document.activeElement !== el) continue;
        const style = getComputedStyle(el);
        const width = parseFloat(style.outlineWidth);
        const outline = rgb(style.outlineColor).slice(0, 3);
        const back = behind(el);
        const [a, b] = [lum(outline), lum(back)].sort((x, y) => y - x);
        const ratio = (a + 0.05) / (b + 0.05);
        if (style.outlineStyle === 'none' || width < 2 || ratio < minimum) {
            weak.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim()
                .slice(0, 25)}": ${style.outlineStyle} ${width}px, ${ratio.toFixed(2)}:1`);
        }
    }
    document.activeElement.blur();
    return weak;
}"""


# Marks each shown control of a form with the stop the Tab key should reach (a radio group is
# one stop: Tab lands on it once, the arrow keys move within it); returns how many Tab presses
# can reach them all (every focusable element, plus a few), with focus back at the top.
KEYBOARD_STOPS = """() => {
    const controls = document.querySelectorAll(
        'form input:not([type=hidden]), form select, form textarea, form button');
    let stops = 0;
    for (const el of controls) {
        if (el.disabled || el.getClientRects().length === 0) continue;
        const form = [...document.forms].indexOf(el.form);
        el.dataset.keyboardStop = el.type === 'radio' ? `radio ${form} ${el.name}` : String(stops);
        stops += 1;
    }
    document.activeElement.blur();
    window.scrollTo(0, 0);
    const all = document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]');
    return [stops, all.length + 3];
}"""
# The stops not yet reached, each as its element's name or text.
KEYBOARD_MISSED = """(reached) => {
    const missed = new Map();
    for (const el of document.querySelectorAll('[data-keyboard-stop]')) {
        const stop = el.dataset.keyboardStop;
        if (!reached.includes(stop)) {
            missed.set(stop, `${el.tagName.toLowerCase()} "${(el.name || el.textContent || '')
                .trim().slice(0, 25)}"`);
        }
    }
    return [...missed.values()];
}"""


def keyboard_misses(page: Page) -> list[str]:
    """The form controls on the page that pressing Tab from the top never focuses."""
    stops, presses = page.evaluate(KEYBOARD_STOPS)
    if not stops:
        return []
    reached: list[str] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        stop = page.evaluate("document.activeElement.dataset.keyboardStop || ''")
        if stop:
            reached.append(stop)
    missed: list[str] = page.evaluate(KEYBOARD_MISSED, reached)
    return missed


def pages_of(objects: Any, role: str) -> Iterator[tuple[str, str, bool]]:
    """(name, url, main) for each GET page the role may see, from the table of
    test_every_page.py; `main` when the page takes no ids."""
    held = HELD[role]
    for r in every_route():
        if r.name not in PAGES:  # the API: its own walk
            continue
        expected = PAGES[r.name]
        sees = (
            expected == PUBLIC
            or (expected == SIGN_IN_PAGE and role == "anonymous")
            or (isinstance(expected, frozenset) and bool(held & expected))
        )
        if sees and not only_posts(r.pattern):
            url = expand(r.route, fill(objects, role, r.name, r.route))
            yield r.name, url, not arguments_of(r.route)


def check(page: Page, role: str, name: str) -> list[str]:
    """What is wrong with the page as shown: one line per finding, with the rule."""
    found = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE:
        found.append(f"scrolls sideways: {width} px wide; {page.evaluate(TOO_WIDE)}")
    elif wide := page.evaluate(TOO_WIDE):
        found.append(f"elements wider than the viewport: {wide}")
    small = [(text, px) for text, px in page.evaluate(TEXT_SIZES) if px < MIN_TEXT_PX]
    if small:
        found.append(f"timeline or chart text under {MIN_TEXT_PX} px: {small[:5]}")
    results = AXE.run(page, options=AXE_OPTIONS).response
    for violation in results["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        if (role, name, violation["id"]) in EXPECTED_FAILURES:
            continue
        targets = [node["target"] for node in violation["nodes"]][:3]
        found.append(f"axe {violation['id']} ({violation['impact']}): {targets}")
    page.keyboard.press("Shift")  # a key press: focus from now on is shown as for the keyboard
    if weak := page.evaluate(FOCUS_RINGS, FOCUS_CONTRAST):
        found.append(f"focus ring under {FOCUS_CONTRAST}:1: {weak[:5]}")
    if missed := keyboard_misses(page):
        found.append(f"form controls the Tab key never reaches: {missed[:5]}")
    return found


def test_every_page_of_every_role_on_a_phone(browser: Browser, live_server: Any, objects) -> None:
    officer = objects.accounts["security_officer"]
    officer.set_password(PASSWORD)
    officer.save(update_fields=["password"])
    folder = SCREENSHOTS / "every-page"
    shutil.rmtree(folder, ignore_errors=True)
    problems: list[str] = []
    visited: dict[str, int] = {}
    for role in ROLES:
        context = browser.new_context(
            base_url=live_server.url, locale="sv-SE", viewport={"width": PHONE, "height": 844}
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        shots = folder / role
        shots.mkdir(parents=True)
        user = objects.accounts[role]
        if user is not None:
            Journey(name=role, page=page, folder=shots).sign_in(user.get_username())
        visited[role] = 0
        for name, url, main in pages_of(objects, role):
            answer = context.request.get(url)
            assert answer.status == 200, f"{role} {url}: {answer.status}"
            if not answer.headers.get("content-type", "").startswith("text/html"):
                continue  # a file: a CRL, a certificate, a PDF, a photo, a CSV file
            page.goto(url)
            visited[role] += 1
            problems += [f"{role} {url} ({name}): {p}" for p in check(page, role, name)]
            if main:
                slug = name.replace(":", "-")
                page.screenshot(path=shots / f"{slug}-{PHONE}.png", full_page=True)
                page.set_viewport_size({"width": DESKTOP, "height": 900})
                small = [(t, px) for t, px in page.evaluate(TEXT_SIZES) if px < MIN_TEXT_PX]
                if small:
                    problems.append(f"{role} {url} at {DESKTOP} px: text under 12 px: {small[:5]}")
                page.screenshot(path=shots / f"{slug}-{DESKTOP}.png", full_page=True)
                page.set_viewport_size({"width": PHONE, "height": 844})
        context.close()
    assert all(visited.values()), visited
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
