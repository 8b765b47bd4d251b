"""Entries saved by older versions: migrated on setup, then working as before."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN

from .common import ENTRY_ID, SECRET, WEBHOOK_ID, WildixSender, entry_data, user_state


async def test_webhook_entry_from_before_sqs_is_migrated_and_works(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry saved before entries named their transport becomes a webhook entry."""
    old = entry_data()
    del old["transport"]
    entry = MockConfigEntry(
        domain=DOMAIN, data=old, entry_id=ENTRY_ID, version=1, minor_version=1
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.data == entry_data()
    sender = WildixSender(
        hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET
    )
    await sender.post("presence_user_dnd")
    assert user_state(hass, "201", "presence").state == "dnd"


async def test_entry_from_a_newer_version_is_not_loaded(hass: HomeAssistant) -> None:
    """An entry a later version saved is left alone, not misread."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(), version=2)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
