"""In real Chromium: what a guardian wrote is still there after a reload and in a new tab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer


def _press(page: Page, label: str) -> None:
    button = page.locator("li.bubble.bot .choices button:enabled", has_text=label).last
    expect(button).to_be_visible()
    button.click()


def _type(page: Page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#send").click()


@pytest.mark.browser
def test_a_guardians_messages_survive_a_reload_and_show_in_a_second_tab(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    page.goto(f"{live_server.url}/chat")
    _press(page, "Español")
    _press(page, "Sí, acepto")
    expect(page.locator("li.bubble.bot").last).to_contain_text("¿Cómo te llamas?")
    _type(page, "Ana Prueba")
    expect(page.locator("#location-panel")).to_be_visible()
    _type(page, "Centro")
    _press(page, "Mis datos")  # a button, registered
    expect(page.locator("li.bubble.bot").last).to_contain_text(re.compile("datos", re.I))
    _type(page, "ayuda")
    expect(page.locator("li.bubble.me", has_text="ayuda")).to_have_count(1)
    expect(page.locator("li.bubble.me:has-text('ayuda') ~ li.bubble.bot").first).to_be_visible()

    page.reload()
    mine = page.locator("li.bubble.me")
    expect(mine.filter(has_text="ayuda")).to_have_count(1)
    expect(mine.filter(has_text="Mis datos")).to_have_count(1)
    # In its place: right after the question it answered, before the bot's answer to it.
    order = page.evaluate(
        "() => [...document.querySelectorAll('#log li')].map(li => li.textContent)"
    )
    position = next(i for i, text in enumerate(order) if "ayuda" in text and "Tú" in text)
    assert position < len(order) - 1

    second = page.context.new_page()
    second.goto(f"{live_server.url}/chat")
    expect(second.locator("li.bubble.me", has_text="ayuda")).to_have_count(1)
