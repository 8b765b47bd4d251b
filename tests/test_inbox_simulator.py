"""The simulator's voicemail scenario: a missed call that leaves a playable voicemail."""

from http import HTTPStatus
import json
import random
from typing import Any

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from wildix_simulator.office import Office, parse_users
from wildix_simulator.scenarios import SCENARIOS
from wildix_simulator.simulation import Delivery, Simulation, VirtualClock

from .common import ENTRY_ID, SECRET, START, WildixSender
from .fake_pbx import FakePbx
from .test_inbox import admin_client, voicemail_sensor, voicemails

__all__ = ["admin_client"]

USERS = "201:Alice Example,202:Bob Example"


@pytest.fixture
async def media(hass: HomeAssistant) -> None:
    """Set up the media source before any HTTP client freezes the routes."""
    assert await async_setup_component(hass, "media_source", {})


@pytest.mark.usefixtures("socket_enabled", "media")
async def test_the_voicemail_scenario_leaves_a_voicemail_to_play(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx, admin_client: Any
) -> None:
    """The scenario's call:completed carries the nested voicemail the fake PBX serves."""
    pbx.inbox.file_auth = "open"
    deliveries: list[Delivery] = []
    office = Office(parse_users(USERS), random.Random(1), media_url=pbx.url)
    sim = Simulation(
        office, VirtualClock(int(START.timestamp() * 1000)), SECRET, deliveries.append
    )
    SCENARIOS["voicemail"](sim, 0.0)
    sim.run()
    completed = next(
        d.payload for d in deliveries if d.payload["type"] == "call:completed"
    )
    url = completed["data"]["flows"][0]["attachments"][0]["voicemail"]["url"]
    pbx.inbox.add_file(url.removeprefix(pbx.url))

    for delivery in deliveries:
        await wildix.post(json.loads(delivery.body))

    assert voicemail_sensor(hass).state == "1"
    (item,) = await voicemails(hass)
    resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
    response = await (await admin_client()).get(resolved.url)
    assert response.status == HTTPStatus.OK
    assert ENTRY_ID in item.media_content_id
