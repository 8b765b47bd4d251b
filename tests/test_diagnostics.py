"""Diagnostics of an entry and of a user's device: useful, and without secrets or numbers."""

from http import HTTPStatus
import json
from typing import Any

# Diagnostics import hassio for the system info; on Home Assistant 2025.4 that import
# fails under the frozen clock, so it happens here, before any clock is frozen.
import homeassistant.components.hassio  # noqa: F401
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from .calls import INBOUND_MISSED, INBOUND_TALKING_LIVE
from .common import ENTRY_ID, SECRET, WEBHOOK_ID, WildixSender

CALLER = "+4930555010203"


@pytest.fixture(autouse=True)
async def diagnostics(hass: HomeAssistant) -> None:
    """Set up diagnostics before any HTTP client freezes the routes."""
    assert await async_setup_component(hass, "diagnostics", {})


async def _scenario(wildix: WildixSender) -> None:
    """Alice talks to an outside caller; Carol's presence has a location; noise around."""
    await wildix.post_all(*INBOUND_TALKING_LIVE)
    # Later in the day, but the clock stays: the API's access token lasts 30 minutes.
    for name in (
        *INBOUND_MISSED,
        "presence_user_available_with_location",
        "presence_user_available_with_location",
    ):
        await wildix.post(name, follow_clock=False)
    await wildix.post_raw(b"{}", {"x-signature": "0" * 64})
    await wildix.post_raw(b" " * (1024 * 1024 + 1))


def _versions(diagnostics: dict[str, Any]) -> dict[str, Any]:
    """Take out the versions, which differ between Home Assistant releases."""
    versions = diagnostics.pop("versions")
    assert versions == {"integration": "0.1.0", "home_assistant": HA_VERSION}
    return diagnostics


def _assert_redacted(diagnostics: dict[str, Any]) -> None:
    text = json.dumps(diagnostics)
    for secret in (SECRET, WEBHOOK_ID, CALLER, "@example.com", "52.5321", "Berlin"):
        assert secret not in text


async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    snapshot: SnapshotAssertion,
) -> None:
    """The entry's diagnostics show traffic, users and calls, with personal data redacted."""
    await _scenario(wildix)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )
    _assert_redacted(diagnostics)
    assert diagnostics["counters"] == {
        "accepted": 7,
        "duplicate": 1,
        "received": 10,
        "rejected_signature": 1,
        "rejected_too_large": 1,
    }
    assert _versions(diagnostics) == snapshot


async def test_user_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    snapshot: SnapshotAssertion,
) -> None:
    """A user's device shows that user and their calls; the PBX device shows the entry."""
    await _scenario(wildix)
    devices = {
        next(iter(device.identifiers))[1]: device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
    }
    alice = await get_diagnostics_for_device(
        hass, hass_client, setup_integration, devices[f"{ENTRY_ID}_201"]
    )
    _assert_redacted(alice)
    assert _versions(alice) == snapshot

    pbx = await get_diagnostics_for_device(
        hass, hass_client, setup_integration, devices[ENTRY_ID]
    )
    assert pbx == await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )


async def test_recent_deliveries_are_bounded(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
) -> None:
    """Only the last 50 deliveries are kept, newest last."""
    for _ in range(60):
        assert await wildix.post_raw(b"{}") == HTTPStatus.UNAUTHORIZED
    await wildix.post("presence_user_available", follow_clock=False)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )
    recent = diagnostics["recent_deliveries"]
    assert len(recent) == 50
    assert recent[-1]["type"] == "presence:user"
    assert recent[-1]["result"] == "accepted"
    assert recent[0] == {
        "received": recent[0]["received"],
        "type": None,
        "result": "rejected_signature",
    }


async def test_recording_links_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
) -> None:
    """A call's recording links (a way into the PBX) do not leave with diagnostics."""
    await wildix.post("call_completed_inbound_answered_recorded")
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )
    assert "spoolview" not in json.dumps(diagnostics)
    (alice,) = diagnostics["users"]
    assert alice["last_call"]["recordings"] == "**REDACTED**"
    assert alice["last_call"]["attachments"] == "**REDACTED**"
