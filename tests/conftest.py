"""Fixtures: a configured Wildix entry and a sender of signed Wildix events."""

import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN

from .common import SECRET, START, WEBHOOK_ID, WildixSender, entry_data

# aiohttp's access log asks a frozen time.localtime() for a UTC offset it lacks.
freezegun.configure(extend_ignore_list=["aiohttp.web_log"])


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load this repository's integration in every test that runs Home Assistant."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def frozen_start(request: pytest.FixtureRequest) -> None:
    """Start every Home Assistant test at the time the fixtures' calls begin."""
    if "hass" in request.fixturenames:
        freezer: FrozenDateTimeFactory = request.getfixturevalue("freezer")
        freezer.move_to(START)


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return a Wildix entry with a known secret and webhook id."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Wildix", data=entry_data(), entry_id="01JWILDIXENTRY"
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the Wildix entry."""
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.fixture
async def wildix(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Return a sender that posts signed events to the entry's webhook."""
    return WildixSender(hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET)
