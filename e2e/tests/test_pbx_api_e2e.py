"""A real Home Assistant connected to the fake PBX API: named users before any event."""

from collections.abc import AsyncIterator

import pytest

from e2e.harness import DEMO_SECRET, DEMO_USERS, Client, WildixEntry
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
