"""A real Home Assistant connected to the fake PBX API: named users before any event, actions."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from e2e.harness import DEMO_SECRET, DEMO_USERS, Client, HarnessError, WildixEntry
from tests.fake_pbx import FakePbx

USERS = dict(item.split(":") for item in DEMO_USERS.split(","))


@pytest.fixture(scope="module")
async def pbx() -> AsyncIterator[FakePbx]:
    """Serve a fake PBX whose directory is the demo office; 204's phone is unplugged."""
    fake = FakePbx()
    fake.users.clear()
    for extension, name in USERS.items():
        fake.add_user(extension, name, department="Sales")
        if extension != "204":
            fake.register(extension)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def wildix(client: Client, pbx: FakePbx) -> WildixEntry:
    """Add Wildix with the PBX API section filled in, through the config-flow REST API."""
    return await client.add_wildix(
        DEMO_SECRET, pbx_api={"url": pbx.url, "token": pbx.token, "verify_ssl": True}
    )


async def test_users_are_named_devices_with_registration_before_any_event(
    client: Client, wildix: WildixEntry, pbx: FakePbx
) -> None:
    """Every directory user has a named registration sensor; the PBX's version shows."""
    states = await client.states()
    registered = {
        state["attributes"]["friendly_name"]: state["state"]
        for entity_id, state in states.items()
        if entity_id.startswith("binary_sensor.")
        and state["attributes"].get("device_class") == "connectivity"
    }
    assert registered == {
        f"{name} Phone registered": "off" if extension == "204" else "on"
        for extension, name in USERS.items()
    }
    versions = [s["state"] for s in states.values() if s["state"] == pbx.version]
    assert versions == [pbx.version]


async def test_actions_act_on_the_pbx(
    client: Client, wildix: WildixEntry, pbx: FakePbx
) -> None:
    """set_presence, call and hang_up through the WebSocket API, as the UI calls them."""
    async with client.websocket() as ws:
        devices = await ws.command("config/device_registry/list")
        users = {d["name"]: d["id"] for d in devices if d.get("model") == "PBX user"}
        bob = users[USERS["202"]]

        async def act(action: str, **data: Any) -> None:
            await ws.command(
                "call_service", domain="wildix", service=action, service_data=data
            )

        await act("set_presence", device_id=[bob], status="dnd", message="Meeting")
        assert (pbx.users["202"].presence, pbx.users["202"].message) == (
            "dnd",
            "Meeting",
        )
        await act("call", device_id=bob, number="+41 22 555 01 23")
        assert [call.callee_number for call in pbx.calls["202"]] == ["+41225550123"]
        await act("hang_up", device_id=bob)
        assert pbx.calls["202"] == []
        # The error the UI shows is the translated one.
        with pytest.raises(HarnessError, match="is not a phone number"):
            await act("call", device_id=bob, number="call me")


async def test_switches_and_do_not_disturb_act_on_the_pbx(
    client: Client, wildix: WildixEntry, pbx: FakePbx
) -> None:
    """Services called over the REST API change the PBX: a switch, a select, a presence."""
    async with client.websocket() as ws:
        entities = await ws.wildix_entities(wildix.entry_id)
    night = entities[f"{wildix.entry_id}_switch_1"]
    office = entities[f"{wildix.entry_id}_switch_2"]
    bob_dnd = entities[f"{wildix.entry_id}_202_dnd"]
    states = await client.states()
    assert states[night]["state"] == "off"
    assert states[night]["attributes"]["friendly_name"].endswith("NightService")

    await client.rest("POST", "/api/services/switch/turn_on", {"entity_id": night})
    assert pbx.switches[1].state == 1
    await client.rest(
        "POST",
        "/api/services/select/select_option",
        {"entity_id": office, "option": "2"},
    )
    assert pbx.switches[2].state == 2
    await client.rest("POST", "/api/services/switch/turn_on", {"entity_id": bob_dnd})
    assert pbx.users["202"].presence == "dnd"

    states = await client.states()
    assert (states[night]["state"], states[office]["state"]) == ("on", "2")
    assert states[bob_dnd]["state"] == "on"

    await client.rest("POST", "/api/services/switch/turn_off", {"entity_id": bob_dnd})
    assert pbx.users["202"].presence == ""
