"""The shipped blueprints load through Home Assistant's blueprint machinery and do their job."""

import asyncio
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from .calls import (
    INBOUND_ANSWERED,
    INBOUND_MISSED,
    INBOUND_MISSED_LIVE,
    INTERNAL,
    INTERNAL_LIVE,
)
from .common import WildixSender, compact, event_time, load_event, sign, user_entity
from .moments import async_known_users

BLUEPRINTS = Path(__file__).parents[1] / "blueprints" / "automation" / "wildix"


@pytest.fixture
def blueprints_installed(hass: HomeAssistant, tmp_path: Path) -> None:
    """Give Home Assistant a config directory holding the repository's blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "wildix")


async def use_blueprints(
    hass: HomeAssistant, *automations: tuple[str, dict[str, Any]]
) -> None:
    """Create an automation from each (blueprint file, inputs) and check it is on."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": f"wildix {index}",
                    "use_blueprint": {"path": f"wildix/{path}", "input": inputs},
                }
                for index, (path, inputs) in enumerate(automations)
            ]
        },
    )
    await hass.async_block_till_done()
    for index in range(len(automations)):
        state = hass.states.get(f"automation.wildix_{index}")
        assert state is not None
        assert state.state == "on"


async def post_while_waiting(
    hass: HomeAssistant, wildix: WildixSender, event: str | dict[str, Any]
) -> None:
    """Post an event while an automation run waits for a call to end.

    async_block_till_done would wait for that run too, so yield to the loop instead,
    as core's tests of the motion light blueprint do.
    """
    payload = load_event(event) if isinstance(event, str) else event
    wildix.freezer.move_to(event_time(payload) + timedelta(milliseconds=150))
    body = compact(payload)
    response = await wildix.client.post(
        f"/api/webhook/{wildix.webhook_id}",
        data=body,
        headers={"x-signature": sign(body), "content-type": "application/json"},
    )
    assert response.status == 200
    for _ in range(10):
        await asyncio.sleep(0)


def messages(calls: list[ServiceCall]) -> list[tuple[str, str]]:
    """Return the (title, message) of each notification sent, and forget them."""
    sent = [(call.data["title"], call.data["message"]) for call in calls]
    calls.clear()
    return sent


@pytest.mark.usefixtures("blueprints_installed")
async def test_incoming_call_notification(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A ringing call is announced once with the caller's name and number."""
    devices = await async_known_users(hass, wildix, "201", "202")
    notified = async_mock_service(hass, "notify", "phone")
    await use_blueprints(
        hass,
        (
            "incoming_call_notification.yaml",
            {"pbx_user": devices["201"], "notify_action": "notify.phone"},
        ),
        (
            "incoming_call_notification.yaml",
            {
                "pbx_user": devices["202"],
                "notify_action": "notify.phone",
                "title": "Bob",
            },
        ),
    )
    await wildix.post_all(*INBOUND_ANSWERED[:3])
    assert messages(notified) == [
        ("Incoming call", "+4930555010203 is calling Alice Example")
    ]
    await wildix.post_all(*INTERNAL[:2], *INTERNAL_LIVE)
    assert messages(notified) == [("Bob", "Carol Example (203) is calling Bob Example")]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, ("Incoming call", "an unknown caller is calling Alice Example")),
        (
            {"message": "{caller} ruft {user} an", "unknown_caller": "Unbekannt"},
            ("Incoming call", "Unbekannt ruft Alice Example an"),
        ),
    ],
)
@pytest.mark.usefixtures("blueprints_installed")
async def test_incoming_call_notification_privacy(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    inputs: dict[str, str],
    expected: tuple[str, str],
) -> None:
    """With outside numbers hidden the notification still goes out, without them."""
    devices = await async_known_users(hass, wildix, "201")
    hass.config_entries.async_update_entry(
        setup_integration, options={"show_remote": False}
    )
    await hass.async_block_till_done()
    notified = async_mock_service(hass, "notify", "phone")
    await use_blueprints(
        hass,
        (
            "incoming_call_notification.yaml",
            {"pbx_user": devices["201"], "notify_action": "notify.phone", **inputs},
        ),
    )
    await wildix.post("call_update_inbound_ringing")
    assert messages(notified) == [expected]


@pytest.mark.usefixtures("blueprints_installed")
async def test_incoming_call_notification_in_your_language(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The message and the unknown caller's words are inputs: a German user gets German."""
    devices = await async_known_users(hass, wildix, "201", "202")
    notified = async_mock_service(hass, "notify", "phone")
    german = {
        "notify_action": "notify.phone",
        "title": "Anruf",
        "message": "{caller} ruft {user} an",
        "unknown_caller": "Unbekannt",
    }
    await use_blueprints(
        hass,
        ("incoming_call_notification.yaml", {"pbx_user": devices["201"], **german}),
        ("incoming_call_notification.yaml", {"pbx_user": devices["202"], **german}),
    )
    await wildix.post("call_update_inbound_ringing")
    await wildix.post("call_update_internal_ringing")
    assert messages(notified) == [
        ("Anruf", "+4930555010203 ruft Alice Example an"),
        ("Anruf", "Carol Example (203) ruft Bob Example an"),
    ]


@pytest.mark.usefixtures("blueprints_installed")
async def test_missed_call_notification(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A missed call is reported once, with the caller and the local time; answered ones not."""
    devices = await async_known_users(hass, wildix, "201")
    notified = async_mock_service(hass, "notify", "phone")
    await use_blueprints(
        hass,
        (
            "missed_call_notification.yaml",
            {"pbx_user": devices["201"], "notify_action": "notify.phone"},
        ),
    )
    await wildix.post_all(
        *INBOUND_ANSWERED,
        *INBOUND_MISSED,
        "call_end_inbound_missed",
        *INBOUND_MISSED_LIVE,
    )
    # 10:02 UTC is 02:02 in the test configuration's time zone (US/Pacific).
    assert messages(notified) == [
        ("Missed call", "Alice Example missed a call from +4940555777888 at 02:02")
    ]


@pytest.mark.usefixtures("blueprints_installed")
async def test_missed_call_notification_in_your_language(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A message typed in another language gets the user, the caller and the time filled in."""
    devices = await async_known_users(hass, wildix, "201")
    notified = async_mock_service(hass, "notify", "phone")
    await use_blueprints(
        hass,
        (
            "missed_call_notification.yaml",
            {
                "pbx_user": devices["201"],
                "notify_action": "notify.phone",
                "title": "Appel manqué",
                "message": "{user} a manqué un appel de {caller} à {time}",
            },
        ),
    )
    for name in (
        "call_start_inbound_missed",
        "call_update_inbound_missed_ringing",
        "call_end_inbound_missed",
    ):
        await wildix.post(name)
    assert messages(notified) == [
        ("Appel manqué", "Alice Example a manqué un appel de +4940555777888 à 02:02")
    ]


async def pause_media_for(
    hass: HomeAssistant, device_id: str, player_state: str
) -> tuple[list[ServiceCall], list[ServiceCall]]:
    """Run the media blueprint for a user's device; return the pauses and plays."""
    paused = async_mock_service(hass, "media_player", "media_pause")
    played = async_mock_service(hass, "media_player", "media_play")
    hass.states.async_set("media_player.tv", player_state)
    await use_blueprints(
        hass,
        (
            "pause_media_during_calls.yaml",
            {"pbx_user": device_id, "media_player": "media_player.tv"},
        ),
    )
    return paused, played


@pytest.mark.usefixtures("blueprints_installed")
async def test_pause_media_during_calls(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A playing player pauses when a call rings and resumes when that call ends."""
    devices = await async_known_users(hass, wildix, "201")
    paused, played = await pause_media_for(hass, devices["201"], "playing")
    await post_while_waiting(hass, wildix, "call_update_inbound_ringing")
    assert [call.data["entity_id"] for call in paused] == [["media_player.tv"]]
    hass.states.async_set("media_player.tv", "paused")
    await post_while_waiting(hass, wildix, "call_update_inbound_talking")
    # A second call rings and is missed meanwhile: the player stays paused.
    second = load_event("call_update_inbound_missed_ringing", time=1741079740000)
    await post_while_waiting(hass, wildix, second)
    await post_while_waiting(
        hass, wildix, load_event("call_end_inbound_missed", time=1741079745000)
    )
    assert (len(paused), played) == (1, [])
    await wildix.post("call_end_inbound_answered")
    assert [call.data["entity_id"] for call in played] == [["media_player.tv"]]


@pytest.mark.usefixtures("blueprints_installed")
async def test_pause_media_leaves_idle_or_resumed_players(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A player that was not playing, or was resumed by hand, is left alone."""
    devices = await async_known_users(hass, wildix, "202")
    paused, played = await pause_media_for(hass, devices["202"], "idle")
    await wildix.post("call_start_outbound")
    await wildix.post("call_end_outbound")
    assert (paused, played) == ([], [])

    hass.states.async_set("media_player.tv", "playing")
    await wildix.post("call_start_internal")
    await post_while_waiting(hass, wildix, "call_update_internal_ringing")
    assert len(paused) == 1
    hass.states.async_set("media_player.tv", "playing")
    await wildix.post("call_end_internal_rejected")
    assert played == []


@pytest.mark.usefixtures("blueprints_installed")
async def test_busy_light(hass: HomeAssistant, wildix: WildixSender) -> None:
    """The light is on from answer or dial-out to the end of the user's last call."""
    await async_known_users(hass, wildix, "201", "202")
    turned_on = async_mock_service(hass, "homeassistant", "turn_on")
    turned_off = async_mock_service(hass, "homeassistant", "turn_off")
    await use_blueprints(
        hass,
        (
            "busy_light.yaml",
            {
                "on_call": user_entity(hass, "binary_sensor", "201", "on_call"),
                "busy_light": "light.alice_door",
            },
        ),
        (
            "busy_light.yaml",
            {
                "on_call": user_entity(hass, "binary_sensor", "202", "on_call"),
                "busy_light": "switch.bob_sign",
            },
        ),
    )

    def switched() -> list[tuple[str, str]]:
        done = [("on", call.data["entity_id"]) for call in turned_on] + [
            ("off", call.data["entity_id"]) for call in turned_off
        ]
        turned_on.clear()
        turned_off.clear()
        return done

    await wildix.post("call_update_inbound_ringing")
    assert switched() == []
    await wildix.post("call_update_inbound_talking")
    assert switched() == [("on", ["light.alice_door"])]
    await wildix.post(
        load_event("call_update_inbound_missed_ringing", time=1741079740000)
    )
    await wildix.post(load_event("call_end_inbound_missed", time=1741079745000))
    await wildix.post("call_update_inbound_hold")
    assert switched() == []
    await wildix.post("call_end_inbound_answered")
    assert switched() == [("off", ["light.alice_door"])]

    await wildix.post("call_start_outbound")
    assert switched() == [("on", ["switch.bob_sign"])]
    await wildix.post("call_update_outbound_talking")
    assert switched() == []
    await wildix.post("call_end_outbound")
    assert switched() == [("off", ["switch.bob_sign"])]
