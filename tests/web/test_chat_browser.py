"""A guardian registers and sends the park card from the page, in real headless Chromium.

The test answers whatever the bot asks as a person would (it does not script the engine's
exact wording): buttons by their label, typed answers for typed questions, the map for the
location and a generated PNG for the photo; then it finds the submission in the database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from tests.conftest import REPO_ROOT
from tests.web.conftest import LiveServer, make_png

SCREENSHOT = REPO_ROOT / "var" / "screenshots" / "chat.png"
PARK = "Parque Demo Lerdo"
MAX_STEPS = 60
REPLY_TIMEOUT_MS = 20_000
# Buttons a guardian filling the park card would press, most wanted first.
PREFERRED = (
    re.compile(r"parque|park", re.IGNORECASE),
    re.compile(r"^\s*(acepto|accept|i accept|sí, acepto|si, acepto)", re.IGNORECASE),
    re.compile(r"^\s*(s[ií]|yes)\b", re.IGNORECASE),
    re.compile(r"espa[nñ]ol", re.IGNORECASE),
    re.compile(r"tarjeta|card|vigilancia", re.IGNORECASE),
)
NEVER = re.compile(r"^\s*(no\b|cancel|omitir|skip|salir|atr[aá]s|back)", re.IGNORECASE)

LAST_ID_JS = (
    "() => Math.max(0, ...[...document.querySelectorAll('li.bubble.bot')]"
    ".map(li => Number(li.dataset.id)))"
)


def _newest_reply_id(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT MAX(id) FROM outbox_messages WHERE channel = 'webchat'"
        ).fetchone()
    return int(row[0] or 0)


@contextmanager
def _settled(page: Page, database: Path) -> Iterator[None]:
    """Around something that posts: afterwards the page shows every reply it caused.

    The post is processed before its response returns, so by then all its replies are
    outbox rows: the page is settled once it shows the newest of them.
    """
    with page.expect_response(_is_post, timeout=REPLY_TIMEOUT_MS) as answer:
        yield
    assert answer.value.ok, answer.value.text()
    newest = _newest_reply_id(database)
    page.wait_for_function(
        f"newest => ({LAST_ID_JS})() >= newest", arg=newest, timeout=REPLY_TIMEOUT_MS
    )


def _is_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/chat/api/messages")


def _submission_with_photo(database: Path) -> tuple[int, str, int] | None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT s.id, c.form_id, COUNT(m.id) FROM submissions s "
            "JOIN card_definitions c ON c.id = s.card_definition_id "
            "LEFT JOIN submission_media m ON m.submission_id = s.id "
            "WHERE s.channel = 'webchat' GROUP BY s.id, c.form_id"
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), int(row[2]))


def _typed_answer(question: str) -> str:
    text = question.casefold()
    if re.search(r"nombre|llamas|name", text):
        return "Ana Prueba"
    if re.search(r"cu[aá]nt|n[uú]mero|how many|number|edad|age", text):
        return "3"
    if re.search(r"colonia|neighbo", text):
        return "Centro"
    return "Todo en orden"


def _pick(buttons: Locator) -> Locator:
    labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    for pattern in PREFERRED:
        for index, label in enumerate(labels):
            if pattern.search(label) and not NEVER.search(label):
                return buttons.nth(index)
    for index, label in enumerate(labels):
        if not NEVER.search(label):
            return buttons.nth(index)
    return buttons.first


def _share_location(page: Page) -> None:
    """Tap the park on the offline map, then send the point."""
    park = page.locator("#map path.space", has=page.locator("title", has_text=PARK)).first
    expect(park).to_be_visible()
    park.scroll_into_view_if_needed()
    box = park.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#coords")).to_have_value(re.compile(r"^28\.63\d*, -106\.08\d*$"))
    expect(page.locator("#map .marker")).to_be_attached()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.locator("#location-send").click()


def _answer(page: Page, photos_sent: int, tmp_path: Path) -> int:
    """Answer the newest question once (one post); returns how many photos were sent."""
    if page.locator("#location-panel").is_visible():
        _share_location(page)
        return photos_sent
    active = page.locator("li.bubble.bot:not([data-kind='text'])").last
    buttons = active.locator(".choices button:enabled")
    if page.locator("#photo-panel").is_visible():
        if photos_sent == 0:
            photo = tmp_path / "parque.png"
            photo.write_bytes(make_png(64, 48))
            page.locator("#photo-input").set_input_files(str(photo))
            page.locator("#photo-send").click()
            return 1
        done = active.locator(".choices button.done:enabled")
        if done.count():
            done.first.click()
        else:
            page.locator("#text").fill("listo")  # a done word the engine understands
            page.locator("#send").click()
        return photos_sent
    if buttons.count():
        toggles = active.locator(".choices button[aria-pressed]:enabled")
        if toggles.count():
            if active.locator("button[aria-pressed='true']").count() == 0:
                first = toggles.first
                first.click()
                return photos_sent
            active.locator(".choices button.done").click()
            return photos_sent
        _pick(buttons).click()
        return photos_sent
    question = page.locator("li.bubble.bot").last.inner_text()
    page.locator("#text").fill(_typed_answer(question))
    page.locator("#send").click()
    return photos_sent


def _check_ticks(page: Page) -> None:
    """A multi-select shows a tick on exactly the options it marks as pressed."""
    for button in page.locator("button[aria-pressed]").all():
        pressed = button.get_attribute("aria-pressed") == "true"
        assert ("✓" in button.inner_text()) == pressed


@pytest.mark.browser
def test_a_guardian_registers_and_sends_the_park_card_from_the_page(
    phone_page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    page = phone_page
    database = live_server.database
    with _settled(page, database):
        page.goto(f"{live_server.url}/chat")  # a first visit posts /start
    expect(page.locator("html")).to_have_attribute("lang", "es")
    photos_sent = 0
    found = None
    for _ in range(MAX_STEPS):
        found = _submission_with_photo(database)
        if found is not None:
            break
        with _settled(page, database):
            photos_sent = _answer(page, photos_sent, tmp_path)
        _check_ticks(page)
    transcript = page.locator("#log").inner_text()
    assert found is not None, f"no submission after {MAX_STEPS} answers:\n{transcript}"
    _, form_id, photo_count = found
    assert form_id == "tarjeta_parques"
    assert photo_count >= 1
    # Once answered, no earlier question can be answered again.
    questions = page.locator("li.bubble.bot:not([data-kind='text'])")
    for index in range(questions.count() - 1):
        enabled = questions.nth(index).locator(".choices button:enabled")
        assert enabled.count() == 0, transcript
