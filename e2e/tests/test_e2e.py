"""A real Home Assistant, set up as a person would, fed by the Wildix simulator."""

import asyncio
from collections import defaultdict
import re
from typing import Any

from e2e.harness import (
    DEMO_SECRET,
    DEMO_USERS,
    Client,
    HomeAssistantProcess,
    WildixEntry,
    simulate,
)

USERS = dict(item.split(":") for item in DEMO_USERS.split(","))


async def _drain(
    queue: asyncio.Queue[dict[str, Any]], expected: int, timeout: float = 15
) -> list[dict[str, Any]]:
    """Collect events from a queue until `expected` have arrived (or time runs out)."""
    events: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(events) < expected:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            events.append(await asyncio.wait_for(queue.get(), remaining))
        except TimeoutError:
            break
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def _sent(output: str) -> tuple[int, int]:
    """Return how many events the simulator sent, and how many of them were resends."""
    match = re.search(r"Sent (\d+) events \((\d+) sent again\)", output)
    assert match, output
    return int(match[1]), int(match[2])


async def test_config_flow_shows_the_webhook_url(
    hass_process: HomeAssistantProcess, wildix: WildixEntry
) -> None:
    """The flow shows this Home Assistant's webhook URL and creates an entry."""
    assert re.fullmatch(
        rf"{hass_process.url}/api/webhook/[0-9a-f]{{64}}", wildix.webhook_url
    )


async def test_wrong_secret_is_refused(wildix: WildixEntry) -> None:
    """A simulator with the wrong secret hears 401 and says what to check."""
    status, output = await simulate(
        "--url",
        wildix.webhook_url,
        "--secret",
        "NotTheSecret",
        "--scenario",
        "presence",
    )
    assert status == 1
    assert " 401 " in output
    assert "the signature did not verify" in output
    assert wildix.webhook_url not in output, "the webhook id must not be printed"


async def test_every_scenario_reaches_states_devices_and_events(
    client: Client, wildix: WildixEntry
) -> None:
    """Every scenario, with resent duplicates, becomes states, devices and bus events."""
    async with client.websocket() as ws:
        webhooks = await ws.subscribe("wildix_webhook")
        moments = await ws.subscribe("wildix_event")
        changes = await ws.subscribe("state_changed")
        status, output = await simulate(
            "--url", wildix.webhook_url, "--secret", DEMO_SECRET, "--users", DEMO_USERS,
            "--scenario", "all", "--speed", "12", "--seed", "7", "--duplicates", "0.25",
        )  # fmt: skip
        assert status == 0, output
        sent, resent = _sent(output)
        assert resent > 0
        received = await _drain(webhooks, sent - resent)
        # Each distinct body fires wildix_webhook exactly once: resends are recognised.
        assert len(received) == sent - resent
        fired = [event["data"] for event in await _drain(moments, 10**6, timeout=1)]
        state_changes = [
            event["data"] for event in await _drain(changes, 10**6, timeout=1)
        ]

        devices = [
            device
            for device in await ws.command("config/device_registry/list")
            if wildix.entry_id in device["config_entries"]
        ]
        entities = await ws.wildix_entities(wildix.entry_id)

    pbx = next(device for device in devices if device["model"] == "PBX")
    people = {device["name"]: device for device in devices if device is not pbx}
    assert sorted(people) == sorted(USERS.values())
    assert all(device["via_device_id"] == pbx["id"] for device in people.values())
    assert pbx["serial_number"] == received[0]["data"]["pbx"]

    states = await client.states()

    def state(extension: str, key: str) -> dict[str, Any]:
        return states[entities[f"{wildix.entry_id}_{extension}_{key}"]]

    # Presence: each user's sensor shows the last presence:user event they were sent.
    last_presence: dict[str, dict[str, Any]] = {}
    for event in received:
        if event["data"]["type"] == "presence:user":
            last_presence[event["data"]["data"]["extension"]] = event["data"]["data"]
    assert sorted(last_presence) == sorted(USERS)
    for extension, sent_presence in last_presence.items():
        presence = state(extension, "presence")
        assert presence["state"] == sent_presence["status"]
        assert presence["attributes"]["message"] == (sent_presence["message"] or None)

    # Phones went ringing -> talking and are all idle again; nothing is left active.
    history: dict[str, list[str]] = defaultdict(list)
    for change in state_changes:
        if change["new_state"] is not None:
            history[change["entity_id"]].append(change["new_state"]["state"])
    alice_phone = entities[f"{wildix.entry_id}_201_phone"]
    assert _in_order(history[alice_phone], ["ringing", "talking", "idle"])
    for extension in USERS:
        assert state(extension, "phone")["state"] == "idle"
        assert state(extension, "on_call")["state"] == "off"
    assert states[entities[f"{wildix.entry_id}_active_calls"]]["state"] == "0"

    # Bus events for automations: one per moment and user, with the device.
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for moment in fired:
        assert moment["config_entry_id"] == wildix.entry_id
        assert moment["device_id"] == people[USERS[moment["extension"]]]["id"]
        by_user[moment["extension"]].append(moment)
    kinds = {
        ext: [(m["type"], m["direction"]) for m in items]
        for ext, items in by_user.items()
    }
    assert ("missed_call", "inbound") in kinds["202"]
    assert ("outgoing_call", "outbound") in kinds["203"]
    assert ("outgoing_call", "internal") in kinds["204"]
    assert ("incoming_call", "internal") in kinds["201"]
    assert _in_order(
        [kind for kind, _ in kinds["201"]],
        ["incoming_call", "call_answered", "call_ended"],
    )
    missed = state("202", "missed_calls")
    assert int(missed["state"]) >= 1
    assert all(
        len([m for m in items if m["type"] == "call_ended"])
        == len({m["call_id"] for m in items if m["type"] == "call_ended"})
        for items in by_user.values()
    ), "a call ended twice for one user"


async def test_busy_office_with_legacy_events_only(
    client: Client, wildix: WildixEntry
) -> None:
    """A short busy-office run on the legacy family leaves every phone idle."""
    users = "301:Erin Example,302:Frank Example,303:Grace Example"
    status, output = await simulate(
        "--url", wildix.webhook_url, "--secret", DEMO_SECRET, "--users", users,
        "--scenario", "busy-office", "--families", "legacy", "--rate", "15",
        "--duration", "6", "--speed", "8", "--seed", "3", "--quiet",
    )  # fmt: skip
    assert status == 0, output
    sent, _ = _sent(output)
    assert sent >= 30
    states = await client.states()
    async with client.websocket() as ws:
        entities = await ws.wildix_entities(wildix.entry_id)
    phones = [
        states[entities[f"{wildix.entry_id}_{ext}_phone"]]["state"]
        for ext in ("301", "302", "303")
        if f"{wildix.entry_id}_{ext}_phone" in entities
    ]
    assert phones
    assert set(phones) == {"idle"}
    assert states[entities[f"{wildix.entry_id}_active_calls"]]["state"] == "0"


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """Tell whether `wanted` appears in `seen` as a subsequence."""
    remaining = iter(seen)
    return all(any(item == want for item in remaining) for want in wanted)
