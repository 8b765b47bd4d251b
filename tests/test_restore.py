"""Restarts and device removal: users and their states survive; deleted users stay gone."""

from collections import Counter
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wildix import storage
from custom_components.wildix.const import SAVE_DELAY
from custom_components.wildix.model import User
from custom_components.wildix.persistence import user_as_dict
from custom_components.wildix.storage import SAVE_SLICE

from .common import (
    ENTRY_ID,
    WildixSender,
    hub_of,
    line,
    load_event,
    user_entity,
    user_state,
)


async def test_reload_restores_users_and_states(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """DND, the missed-call count and a call in progress are back after a restart."""
    await wildix.post("presence_user_dnd")
    for name in ("call_update_inbound_missed_ringing", "call_end_inbound_missed"):
        await wildix.post(name)
    await wildix.post("call_update_outbound_talking")
    before = {s.entity_id: (s.state, s.attributes) for s in hass.states.async_all()}

    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert f"wildix.{ENTRY_ID}" in hass_storage

    after = {s.entity_id: (s.state, s.attributes) for s in hass.states.async_all()}
    assert after == before
    assert user_state(hass, "201", "presence").state == "dnd"
    assert user_state(hass, "201", "missed_calls").state == "1"
    assert line(hass, "202") == ("talking", "off", "on")

    await wildix.post("call_end_outbound")
    assert line(hass, "202") == ("idle", "off", "off")


async def test_start_from_saved_state(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Known users have their devices and last states as soon as the entry loads."""
    hass_storage[f"wildix.{ENTRY_ID}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"wildix.{ENTRY_ID}",
        "data": {
            "pbx_serial": "2211000a7c3e",
            "last_event": 1741089600.5,
            "users": [
                {
                    "extension": "0201",
                    "name": "Alice Example",
                    "presence": {
                        "status": "dnd",
                        "message": "Workshop",
                        "until": None,
                        "location": None,
                    },
                    "presence_ms": 1741089600318,
                    "missed_calls": 3,
                }
            ],
            "calls": [],
        },
    }
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert (
        user_entity(hass, "sensor", "0201", "presence")
        == "sensor.alice_example_presence"
    )
    assert user_state(hass, "0201", "presence").state == "dnd"
    assert user_state(hass, "0201", "missed_calls").state == "3"
    assert line(hass, "0201") == ("idle", "off", "off")
    pbx = dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
    assert {(device.name, device.serial_number) for device in pbx} == {
        ("Wildix", "2211000a7c3e"),
        ("Alice Example", None),
    }


@pytest.fixture
async def device_api(hass: HomeAssistant) -> None:
    """Load the device registry API before the HTTP server starts."""
    assert await async_setup_component(hass, "websocket_api", {})
    assert await async_setup_component(hass, "config", {})


async def test_deleted_user_device_returns_only_with_a_new_event(
    hass: HomeAssistant,
    device_api: None,
    wildix: WildixSender,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A deleted user device stays gone until that user sends an event."""
    client = await hass_ws_client(hass)
    await wildix.post("presence_user_dnd", follow_clock=False)
    await wildix.post("presence_user_away", follow_clock=False)
    devices = dr.async_get(hass)
    by_name = {d.name: d for d in dr.async_entries_for_config_entry(devices, ENTRY_ID)}

    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": ENTRY_ID,
            "device_id": by_name["Wildix"].id,
        }
    )
    assert not (await client.receive_json())["success"]

    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": ENTRY_ID,
            "device_id": by_name["Extension 201"].id,
        }
    )
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done()
    entities = er.async_get(hass)
    assert (
        entities.async_get_entity_id("sensor", "wildix", f"{ENTRY_ID}_201_presence")
        is None
    )
    assert hass.states.get("sensor.extension_201_presence") is None

    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert (
        entities.async_get_entity_id("sensor", "wildix", f"{ENTRY_ID}_201_presence")
        is None
    )

    await wildix.post("presence_user_available", follow_clock=False)
    assert user_state(hass, "201", "presence").state == "available"
    assert user_state(hass, "202", "presence").state == "away"


async def test_state_is_saved_during_steady_traffic(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Events arriving every few seconds do not postpone saving forever."""
    time_ms = load_event("presence_user_dnd")["time"]
    for _ in range(5):
        time_ms += 3000
        await wildix.post("presence_user_dnd", time=time_ms, follow_clock=False)
        freezer.tick(3)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    saved = hass_storage[f"wildix.{ENTRY_ID}"]["data"]
    assert [user["extension"] for user in saved["users"]] == ["201"]


async def test_removing_an_entry_that_is_not_loaded_deletes_what_it_saved(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The saved model of a removed entry goes, even when the entry is not running."""
    await wildix.post("presence_user_dnd")
    assert await hass.config_entries.async_unload(ENTRY_ID)
    assert f"wildix.{ENTRY_ID}" in hass_storage

    assert await hass.config_entries.async_remove(ENTRY_ID)
    await hass.async_block_till_done()
    assert f"wildix.{ENTRY_ID}" not in hass_storage


# Enough users for several slices of a save, and a remainder.
SAVED_USERS = 3 * SAVE_SLICE + 7


@pytest.fixture
def many_saved_users(hass_storage: dict[str, Any]) -> list[str]:
    """Save enough users for a save to be made in several slices."""
    extensions = [str(300 + number) for number in range(SAVED_USERS)]
    hass_storage[f"wildix.{ENTRY_ID}"] = {
        "version": 1,
        "minor_version": 2,
        "key": f"wildix.{ENTRY_ID}",
        "data": {
            "pbx_serial": None,
            "last_event": None,
            "users": [
                {"extension": extension, "name": f"User {extension}"}
                for extension in extensions
            ],
            "calls": [],
        },
    }
    return extensions


async def test_a_save_lets_the_event_loop_run_between_a_few_users(
    hass: HomeAssistant,
    many_saved_users: list[str],
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """However many users, a save encodes at most SAVE_SLICE before others get a turn.

    A ticker that reschedules itself on the event loop counts the loop's turns; every
    user encoded is stamped with the turn it was encoded in.
    """
    turns = 0
    ticking = True
    encoded_in_turn: Counter[int] = Counter()

    def tick() -> None:
        nonlocal turns
        turns += 1
        if ticking:
            hass.loop.call_soon(tick)

    def counting(user: User) -> dict[str, Any]:
        encoded_in_turn[turns] += 1
        return user_as_dict(user)

    await wildix.post("presence_user_dnd")
    tick()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage, "user_as_dict", counting)
        freezer.tick(SAVE_DELAY + 1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    ticking = False

    saved = hass_storage[f"wildix.{ENTRY_ID}"]["data"]
    assert {user["extension"] for user in saved["users"]} == {*many_saved_users, "201"}
    assert saved["users"][-1]["presence"]["status"] == "dnd"
    assert sum(encoded_in_turn.values()) == SAVED_USERS + 1
    assert max(encoded_in_turn.values()) <= SAVE_SLICE


async def test_a_user_forgotten_during_a_save_is_not_saved(
    hass: HomeAssistant,
    many_saved_users: list[str],
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A user whose device is deleted while a save is under way stays deleted."""
    hub = hub_of(hass)
    forgotten = many_saved_users[0]

    def forget_meanwhile(user: User) -> dict[str, Any]:
        if user.extension == many_saved_users[-1] and forgotten in hub.model.users:
            # Between two slices, after the first user was encoded.
            hass.loop.call_soon(hub.async_forget_user, forgotten)
        return user_as_dict(user)

    await wildix.post("presence_user_dnd")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage, "user_as_dict", forget_meanwhile)
        freezer.tick(SAVE_DELAY + 1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    saved = hass_storage[f"wildix.{ENTRY_ID}"]["data"]
    assert forgotten not in {user["extension"] for user in saved["users"]}
    assert len(saved["users"]) == SAVED_USERS
    # The next save, after the change the forgetting made, agrees.
    freezer.tick(SAVE_DELAY + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(hass_storage[f"wildix.{ENTRY_ID}"]["data"]["users"]) == SAVED_USERS


async def test_what_changed_just_before_home_assistant_stops_is_saved(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant's final write saves what the delay had not saved yet."""
    await wildix.post("presence_user_dnd")
    assert f"wildix.{ENTRY_ID}" not in hass_storage

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    saved = hass_storage[f"wildix.{ENTRY_ID}"]["data"]
    assert [user["presence"]["status"] for user in saved["users"]] == ["dnd"]
    assert len(saved["deliveries"]) == 1
