"""Helpers for the automation tests: known users, live-call payloads, recorded triggers."""

from copy import deepcopy
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.wildix.const import DOMAIN

from .common import ENTRY_ID, START, WildixSender, load_event

MOMENTS = (
    "incoming_call",
    "outgoing_call",
    "call_answered",
    "missed_call",
    "call_ended",
)
BOB = {
    "type": "LOCAL",
    "phone": "202",
    "name": "Bob Example",
    "email": "bob@example.com",
    "userId": "4401202",
    "userExtension": "202",
    "role": "AGENT",
}


async def async_known_users(
    hass: HomeAssistant, wildix: WildixSender, *extensions: str
) -> dict[str, str]:
    """Make users known by their presence, before any call; return their device ids."""
    devices = {}
    for extension in extensions:
        payload = load_event(
            "presence_user_available",
            id=f"de_w204518_{extension}",
            time=int(START.timestamp() * 1000) + 1000,
        )
        payload["data"] |= {
            "extension": extension,
            "email": f"user{extension}@example.com",
        }
        await wildix.post(payload)
        devices[extension] = device_id(hass, f"{ENTRY_ID}_{extension}")
    return devices


def device_id(hass: HomeAssistant, identifier: str) -> str:
    """Return the id of the entry's device with a Wildix identifier."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, ENTRY_ID):
        if (DOMAIN, identifier) in device.identifiers:
            return device.id
    raise AssertionError(f"no device {identifier}")


async def async_record_triggers(
    hass: HomeAssistant, devices: dict[str, str]
) -> list[ServiceCall]:
    """Set up an automation with every device trigger of the users; return its runs."""
    runs = async_mock_service(hass, "test", "moment")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "mode": "queued",
                "max": 100,
                "triggers": [
                    {
                        "trigger": "device",
                        "domain": DOMAIN,
                        "device_id": device_id,
                        "type": moment,
                        "id": f"{extension} {moment}",
                    }
                    for extension, device_id in devices.items()
                    for moment in MOMENTS
                ],
                "actions": {
                    "action": "test.moment",
                    "data": {
                        "trigger": "{{ trigger.id }}",
                        "call_id": "{{ trigger.event.data.call_id }}",
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    return runs


def fired(runs: list[ServiceCall]) -> list[str]:
    """Return the triggers that ran, in order, and forget them."""
    ids = [run.data["trigger"] for run in runs]
    runs.clear()
    return ids


def live_event(
    time_ms: int, *flows: dict[str, Any], kind: str = "call:live:progress"
) -> dict[str, Any]:
    """Return a live event of the answered inbound call with the given flows."""
    payload = load_event("call_live_progress_talking", type=kind, time=time_ms)
    payload["data"] |= {"time": time_ms - 30, "flows": list(flows)}
    if kind != "call:live:progress":
        payload["data"]["eventTrigger"] = "call.end"
    return payload


def flow(
    index: int, status: str, *, callee: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a flow of the answered inbound call, to Alice unless another callee."""
    result: dict[str, Any] = deepcopy(
        load_event("call_live_progress_talking")["data"]["flows"][0]
    )
    result |= {"flowIndex": index, "status": status}
    if status != "TALKING":
        result["talkTime"] = 0
    if callee is not None:
        result["callee"] = callee
    return result
