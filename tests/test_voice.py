"""Assist: the built-in agent's sentences and the LLM tools reach the Wildix intents."""

import dataclasses
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er, intent, llm
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.wildix.const import CONF_SHOW_REMOTE, DOMAIN

from .calls import BUSY_MORNING
from .common import ENTRY_ID, WildixSender

INTENTS = {
    "WildixWhoIsOnThePhone",
    "WildixMissedCalls",
    "WildixCall",
    "WildixSetPresence",
    "WildixVoicemail",
}


@pytest.fixture(autouse=True)
async def assist(hass: HomeAssistant) -> None:
    """Set up the built-in conversation agent, in a time zone of the fixtures' office."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})


def link(hass: HomeAssistant, entry: MockConfigEntry, user: MockUser, extension: str) -> None:
    """Link a Home Assistant user's person to a PBX user (the option `people`)."""
    person = f"person.{extension}"
    hass.states.async_set(person, "home", {"user_id": user.id})
    people = {**entry.options.get("people", {}), person: extension}
    hass.config_entries.async_update_entry(entry, options={**entry.options, "people": people})


async def ask(
    hass: HomeAssistant, text: str, language: str = "en", user: MockUser | None = None
) -> str:
    """Say a sentence to the built-in agent; return its spoken answer."""
    result = await conversation.async_converse(
        hass,
        text,
        None,
        Context(user_id=None if user is None else user.id),
        language=language,
    )
    speech: str = result.response.speech["plain"]["speech"]
    return speech


WHO_IS_ON_THE_PHONE = {
    "en": (
        "Who is on the phone?",
        "Bob Example is on a call with an outside caller since 10:20. "
        "Carol Example is calling Bob Example.",
    ),
    "it": (
        "Chi è al telefono?",
        "Bob Example è al telefono con un chiamante esterno dalle 10:20. "
        "Carol Example sta chiamando Bob Example.",
    ),
    "de": (
        "Wer telefoniert gerade?",
        "Bob Example telefoniert seit 10:20 mit einem externen Anrufer. "
        "Carol Example baut einen Anruf zu Bob Example auf.",
    ),
    "fr": (
        "Qui est au téléphone ?",
        "Bob Example est en ligne avec un correspondant externe depuis 10:20. "
        "Carol Example appelle Bob Example.",
    ),
}


def hide_outside_parties(hass: HomeAssistant) -> None:
    """Turn the option "show outside parties' numbers and names" off."""
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SHOW_REMOTE: False}
    )


@pytest.mark.parametrize("language", sorted(WHO_IS_ON_THE_PHONE))
async def test_who_is_on_the_phone(
    hass: HomeAssistant, wildix: WildixSender, language: str
) -> None:
    """Everyone busy, in the asker's language; the hidden outside caller stays hidden."""
    await wildix.post_all(*BUSY_MORNING)
    hide_outside_parties(hass)
    await hass.async_block_till_done()
    sentence, answer = WHO_IS_ON_THE_PHONE[language]
    assert await ask(hass, sentence, language) == answer
