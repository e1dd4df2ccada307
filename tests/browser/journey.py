"""What a browser journey does besides clicking: signs in through the real form, keeps a
screenshot of every step, remembers every URL the browser asked for, and moves focus with the
keyboard alone."""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import PASSWORD

# At the project root, gitignored; CI keeps the folder as the run's artifacts. scripts/test runs
# the SQLite and PostgreSQL halves side by side and gives the SQLite half a folder of its own
# (EKORT_TEST_SCREENSHOTS), so that neither empties a journey's folder under the other.
SCREENSHOTS = Path(
    os.environ.get("EKORT_TEST_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
).resolve()


@dataclass
class Journey:
    name: str
    page: Page
    folder: Path
    visited: list[str] = field(default_factory=list)
    step: int = 0

    def shot(self, step: str) -> Path:
        """A full-page screenshot as <nn-step>.png, numbered in the order of the journey."""
        self.step += 1
        path = self.folder / f"{self.step:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        page = self.page
        page.goto("/logga-in/")
        page.get_by_label("Användarnamn").fill(username)
        page.get_by_label("Lösenord").fill(password)
        self.shot("logga-in")
        page.get_by_role("button", name="Logga in", exact=True).click()
        expect(page.get_by_text("Inloggad som")).to_be_visible()

    def section(self, heading: str) -> Locator:
        """The part of the page labelled by this heading (aria-labelledby), as a screen reader
        names it: a card, a person, a form section."""
        title = self.page.get_by_role("heading", name=heading, exact=True)
        expect(title).to_have_count(1)
        return self.page.locator(f'[aria-labelledby="{title.get_attribute("id")}"]')


def journey_for(test_name: str, page: Page) -> Journey:
    """A journey named after its test (test_holder_… -> holder_…), its folder emptied."""
    name = re.sub(r"[^\w-]+", "-", test_name.removeprefix("test_")).strip("-")
    folder = SCREENSHOTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    trip = Journey(name=name, page=page, folder=folder)
    page.on("request", lambda request: trip.visited.append(request.url))
    return trip


# --- Keyboard -------------------------------------------------------------------------------


def has_focus(target: Locator) -> bool:
    return bool(target.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 40) -> int:
    """Press Tab (Shift+Tab backwards) until `target` has the focus; how many presses it took.
    Fails if the element cannot be reached by keyboard at all."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if has_focus(target):
            return presses
    raise AssertionError(f"{target} never got the focus after {limit} presses of {key}")


# --- A photograph ---------------------------------------------------------------------------


def portrait_png(width: int = 90, height: int = 120) -> bytes:
    """A small real PNG: a grey head and shoulders on a light blue background."""

    def pixel(x: int, y: int) -> bytes:
        head = (x - width / 2) ** 2 + (y - height * 0.38) ** 2 < (width * 0.22) ** 2
        shoulders = y > height * 0.68 and abs(x - width / 2) < width * 0.4
        return b"\x50\x50\x58" if head or shoulders else b"\xcd\xe4\xf2"

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
