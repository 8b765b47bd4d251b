"""The shipped blueprints load through Home Assistant's blueprint machinery and do their job."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    async_fire_time_changed,
    async_mock_service,
    mock_platform,
)

from custom_components.wildix.const import DOMAIN

from .calls import (
    INBOUND_ANSWERED,
    INBOUND_MISSED,
    INBOUND_MISSED_LIVE,
    INTERNAL,
    INTERNAL_LIVE,
)
from .common import (
    ENTRY_ID,
    WildixSender,
    add_entry,
    compact,
    entry_data,
    event_time,
    load_event,
    sign,
    user_entity,
)
from .fake_pbx import FakePbx, FakeSwitch
from .moments import async_known_users, device_id

BLUEPRINTS = Path(__file__).parents[1] / "blueprints" / "automation" / "wildix"
# A user's presence on the PBX (status, message, end): "available" is no status.
AVAILABLE = ("", "", "")


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


async def yield_to_runs() -> None:
    """Let automation runs get as far as they can while one waits in a delay.

    async_block_till_done would wait for the delay too, so yield to the loop instead,
    as in post_while_waiting.
    """
    for _ in range(20):
        await asyncio.sleep(0)


def switched(
    turned_on: list[ServiceCall], turned_off: list[ServiceCall]
) -> list[tuple[str, list[str]]]:
    """Return which entities were turned on and off, and forget the calls."""
    done = [("on", call.data["entity_id"]) for call in turned_on] + [
        ("off", call.data["entity_id"]) for call in turned_off
    ]
    turned_on.clear()
    turned_off.clear()
    return done


@pytest.fixture
async def pbx_users(hass: HomeAssistant, pbx: FakePbx) -> dict[str, str]:
    """Connect an entry to the fake PBX; return its directory's users: extension -> device.

    The fake PBX's token acts as 201, an admin: the actions may act for every user.
    """
    await add_entry(hass, pbx, **entry_data())
    return {
        extension: device_id(hass, f"{ENTRY_ID}_{extension}") for extension in pbx.users
    }


def presences(pbx: FakePbx) -> dict[str, tuple[str, str, str]]:
    """Return each user's presence as the PBX holds it: status, message, end (UTC)."""
    return {
        extension: (user.presence, user.message, user.until)
        for extension, user in pbx.users.items()
    }


def writes(pbx: FakePbx) -> list[str]:
    """Return the routes the PBX was asked to change something on, and forget all asked."""
    routes = [path for method, path, _, _ in pbx.requests if method in ("PUT", "POST")]
    pbx.requests.clear()
    return routes


def dialled(pbx: FakePbx) -> list[tuple[str, str]]:
    """Return the calls the PBX placed: whose phone rang first, and the number dialled."""
    return [
        (call.caller_number, call.callee_number)
        for calls in pbx.calls.values()
        for call in calls
    ]


async def placed(pbx: FakePbx, count: int) -> list[tuple[str, str]]:
    """Wait until the PBX has placed `count` calls in all; return them.

    The automation run then waits in its cool-down, so async_block_till_done would
    wait for that too; the clock is frozen, so this yields to the loop instead.
    """
    for _ in range(100_000):
        if len(dialled(pbx)) >= count:
            return dialled(pbx)
        await asyncio.sleep(0)
    raise AssertionError(f"the PBX placed {dialled(pbx)}, not {count} calls")


# The wildix actions and switches run for real: over HTTP to the fake PBX, whose
# state the tests read.


@pytest.fixture
async def night_switches(hass: HomeAssistant, pbx: FakePbx) -> dict[str, FakeSwitch]:
    """Connect an entry to a PBX with two day/night switches; return them by entity id."""
    shop = pbx.add_switch("Shop")
    await add_entry(hass, pbx, **entry_data())
    registry = er.async_get(hass)
    switches = {
        registry.async_get_entity_id("switch", DOMAIN, f"{ENTRY_ID}_switch_{switch.id}")
        or "": switch
        for switch in (pbx.switches[1], shop)
    }
    assert "" not in switches
    return switches


@pytest.mark.usefixtures("blueprints_installed")
async def test_night_service_while_the_alarm_is_armed(
    hass: HomeAssistant, pbx: FakePbx, night_switches: dict[str, FakeSwitch]
) -> None:
    """Armed turns the dialplan switch on, disarmed off; the states between change nothing."""
    night, shop_night = night_switches
    hass.states.async_set("alarm_control_panel.office", "disarmed")
    hass.states.async_set("alarm_control_panel.shop", "disarmed")
    await use_blueprints(
        hass,
        (
            "night_service_alarm.yaml",
            {"alarm_panel": "alarm_control_panel.office", "night_switch": night},
        ),
        (
            "night_service_alarm.yaml",
            {
                "alarm_panel": "alarm_control_panel.shop",
                "night_switch": shop_night,
                "armed_states": ["armed_away"],
            },
        ),
    )
    pbx.requests.clear()

    async def alarm(entity_id: str, state: str) -> tuple[int, int, list[str]]:
        """Set the panel; return both switches' states on the PBX and the writes made."""
        hass.states.async_set(entity_id, state)
        await hass.async_block_till_done()
        return (
            night_switches[night].state,
            night_switches[shop_night].state,
            writes(pbx),
        )

    office = "alarm_control_panel.office"
    office_switch = f"/api/v1/Dialplan/Switches/{night_switches[night].id}/"
    assert await alarm(office, "arming") == (0, 0, [])
    assert await alarm(office, "armed_away") == (1, 0, [office_switch])
    assert await alarm(office, "pending") == (1, 0, [])
    assert await alarm(office, "triggered") == (1, 0, [])
    assert await alarm(office, "armed_night") == (1, 0, [office_switch])
    assert await alarm(office, "disarmed") == (0, 0, [office_switch])
    assert hass.states.get(night).state == "off"
    # The panel coming back (a restart, a lost connection) changes nothing.
    assert await alarm(office, "unavailable") == (0, 0, [])
    assert await alarm(office, "armed_home") == (0, 0, [])
    assert await alarm(office, "disarmed") == (0, 0, [office_switch])

    shop = "alarm_control_panel.shop"
    shop_switch = f"/api/v1/Dialplan/Switches/{night_switches[shop_night].id}/"
    assert await alarm(shop, "armed_home") == (0, 0, [shop_switch])
    assert await alarm(shop, "armed_away") == (0, 1, [shop_switch])
    assert hass.states.get(shop_night).state == "on"
    assert await alarm(shop, "disarmed") == (0, 0, [shop_switch])


class Agenda(CalendarEntity):
    """A calendar with a fixed list of events."""

    def __init__(self, name: str, events: list[CalendarEvent]) -> None:
        """Hold the events."""
        self._attr_name = name
        self._events = events

    @property
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        now = dt_util.now()
        return next((e for e in self._events if e.end_datetime_local > now), None)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events that overlap a time span."""
        return [
            event
            for event in self._events
            if event.start_datetime_local < end_date
            and event.end_datetime_local > start_date
        ]


@pytest.fixture
async def work_calendar(hass: HomeAssistant) -> AsyncIterator[list[CalendarEvent]]:
    """Set up Home Assistant's calendar with `calendar.work`; yield its list of events.

    Requested before `wildix`: the calendar registers HTTP views, which only works
    before the test's HTTP client starts. Afterwards the automations are turned off
    and the calendar removed, which stops their timers.
    """
    events: list[CalendarEvent] = []
    agenda = Agenda("Work", events)

    async def async_setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        async_add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        async_add_entities([agenda])

    mock_platform(
        hass,
        "agenda.calendar",
        MockPlatform(async_setup_platform=async_setup_platform),
    )
    assert await async_setup_component(
        hass, "calendar", {"calendar": {"platform": "agenda"}}
    )
    await hass.async_block_till_done()
    yield events
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )
    await agenda.async_remove()


@pytest.mark.usefixtures("blueprints_installed")
async def test_do_not_disturb_during_calendar_events(
    hass: HomeAssistant,
    work_calendar: list[CalendarEvent],
    pbx: FakePbx,
    pbx_users: dict[str, str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An event's start sets its users to DND until its end; the keyword filters events."""
    local = dt_util.get_default_time_zone()
    evening = datetime(2025, 3, 4, 23, 55, tzinfo=local)
    midnight = datetime(2025, 3, 5, tzinfo=local)
    freezer.move_to(evening)
    review = CalendarEvent(
        start=evening + timedelta(minutes=3),
        end=evening + timedelta(minutes=50),
        summary="Sprint Review",
    )
    holiday = CalendarEvent(
        start=date(2025, 3, 5), end=date(2025, 3, 6), summary="Company holiday"
    )
    work_calendar.extend([review, holiday])
    calendar = "calendar.work"
    team = [pbx_users["201"], pbx_users["202"]]
    await use_blueprints(
        hass,
        (
            "dnd_during_calendar_events.yaml",
            {"calendar": calendar, "pbx_users": team, "message": "In a meeting"},
        ),
        (
            "dnd_during_calendar_events.yaml",
            {
                "calendar": calendar,
                "pbx_users": [pbx_users["203"]],
                "keyword": " REVIEW",
            },
        ),
    )

    async def at(moment: datetime) -> dict[str, tuple[str, str, str]]:
        freezer.move_to(moment)
        async_fire_time_changed(hass, moment)
        await hass.async_block_till_done()
        return presences(pbx)

    assert await at(review.start - timedelta(seconds=1)) == dict.fromkeys(
        pbx.users, AVAILABLE
    )
    assert writes(pbx) == []
    # The PBX holds ends in UTC: 00:45 in the test's zone (US/Pacific) is 08:45.
    meeting = ("dnd", "In a meeting", "05/03/2025 08:45")
    assert await at(review.start) == {
        "201": meeting,
        "202": meeting,
        "203": ("dnd", "", "05/03/2025 08:45"),
        "204": AVAILABLE,
    }
    # An all-day event lasts until midnight after its last day, local time.
    assert await at(midnight) == {
        "201": ("dnd", "In a meeting", "06/03/2025 08:00"),
        "202": ("dnd", "In a meeting", "06/03/2025 08:00"),
        "203": ("dnd", "", "05/03/2025 08:45"),
        "204": AVAILABLE,
    }


@pytest.mark.usefixtures("blueprints_installed")
async def test_away_outside_the_office_zone(
    hass: HomeAssistant, pbx: FakePbx, pbx_users: dict[str, str]
) -> None:
    """Leaving the zone sets the user away with the message; entering, available."""
    hass.states.async_set(
        "zone.office",
        "0",
        {
            "latitude": 52.52,
            "longitude": 13.40,
            "radius": 100,
            "friendly_name": "Office",
        },
    )
    at_office = {"latitude": 52.5201, "longitude": 13.4001, "gps_accuracy": 10}
    in_town = {"latitude": 52.50, "longitude": 13.45, "gps_accuracy": 10}
    elsewhere = {"latitude": 48.14, "longitude": 11.58, "gps_accuracy": 10}
    hass.states.async_set("person.alice", "Office", at_office)
    hass.states.async_set("person.bob", "Office", at_office)
    await use_blueprints(
        hass,
        (
            "away_outside_zone.yaml",
            {
                "person": "person.alice",
                "zone": "zone.office",
                "pbx_user": pbx_users["201"],
            },
        ),
        (
            "away_outside_zone.yaml",
            {
                "person": "person.bob",
                "zone": "zone.office",
                "pbx_user": pbx_users["202"],
                "away_message": "",
            },
        ),
    )

    async def move(
        person: str, state: str, where: dict[str, Any]
    ) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        hass.states.async_set(person, state, where)
        await hass.async_block_till_done()
        users = presences(pbx)
        return users["201"], users["202"]

    assert await move("person.alice", "not_home", in_town) == (
        ("away", "Out of the office", ""),
        AVAILABLE,
    )
    writes(pbx)
    assert await move("person.alice", "not_home", elsewhere) == (
        ("away", "Out of the office", ""),
        AVAILABLE,
    )
    assert writes(pbx) == []
    assert await move("person.alice", "Office", at_office) == (AVAILABLE, AVAILABLE)
    assert await move("person.bob", "not_home", in_town) == (
        AVAILABLE,
        ("away", "", ""),
    )


@pytest.mark.usefixtures("blueprints_installed")
async def test_doorbell_event_rings_the_reception(
    hass: HomeAssistant,
    pbx: FakePbx,
    pbx_users: dict[str, str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A press of a doorbell event entity calls once per cool-down; a restore does not."""
    doorbell = "event.front_door_doorbell"
    attributes = {"device_class": "doorbell", "event_type": "ring"}
    hass.states.async_set(doorbell, "2025-03-04T08:00:00.000+00:00", attributes)
    await use_blueprints(
        hass,
        (
            "doorbell_calls_reception.yaml",
            {
                "doorbell": doorbell,
                "pbx_user": pbx_users["204"],
                "number": "+4930555010203",
            },
        ),
    )

    async def press(state: str | None = None) -> None:
        hass.states.async_set(
            doorbell, state or dt_util.utcnow().isoformat(), attributes
        )
        await yield_to_runs()

    async def cool_down() -> None:
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    # The reception's phone rings first; the number keeps its leading +.
    call = ("204", "+4930555010203")
    await press()
    assert await placed(pbx, 1) == [call]
    writes(pbx)
    freezer.tick(timedelta(seconds=5))
    await press()
    await cool_down()
    restored = hass.states.get(doorbell)
    assert restored is not None
    await press("unavailable")
    await press(restored.state)
    await hass.async_block_till_done()
    assert (dialled(pbx), writes(pbx)) == ([call], [])
    freezer.tick(timedelta(seconds=5))
    await press()
    assert await placed(pbx, 2) == [call, call]
    await cool_down()
    assert dialled(pbx) == [call, call]


@pytest.mark.usefixtures("blueprints_installed")
async def test_doorbell_button_rings_the_reception(
    hass: HomeAssistant, pbx: FakePbx, pbx_users: dict[str, str]
) -> None:
    """A binary sensor calls when it turns on, not when it turns off or comes back."""
    button = "binary_sensor.gate_button"
    hass.states.async_set(button, "off")
    await use_blueprints(
        hass,
        (
            "doorbell_calls_reception.yaml",
            {
                "doorbell": button,
                "pbx_user": pbx_users["204"],
                "number": "0301234",
                "cooldown": 0,
            },
        ),
    )

    async def button_to(state: str) -> list[tuple[str, str]]:
        hass.states.async_set(button, state)
        await hass.async_block_till_done()
        return dialled(pbx)

    # The number keeps its leading 0 all the way to the PBX.
    call = ("204", "0301234")
    assert await button_to("on") == [call]
    assert await button_to("off") == [call]
    assert await button_to("unavailable") == [call]
    assert await button_to("on") == [call]
    assert await button_to("off") == [call]
    assert await button_to("on") == [call, call]


def spoken(calls: list[ServiceCall]) -> list[tuple[list[str], str, str]]:
    """Return the (TTS entity, speaker, message) of each announcement, and forget them."""
    said = [
        (
            call.data["entity_id"],
            call.data["media_player_entity_id"],
            call.data["message"],
        )
        for call in calls
    ]
    calls.clear()
    return said


@pytest.mark.usefixtures("blueprints_installed")
async def test_announce_the_caller(hass: HomeAssistant, wildix: WildixSender) -> None:
    """A ringing call is announced once with the caller's name, else their number."""
    devices = await async_known_users(hass, wildix, "201", "202")
    speak = async_mock_service(hass, "tts", "speak")
    await use_blueprints(
        hass,
        (
            "announce_caller.yaml",
            {
                "pbx_user": devices["201"],
                "tts_entity": "tts.piper",
                "media_player": "media_player.kitchen",
            },
        ),
        (
            "announce_caller.yaml",
            {
                "pbx_user": devices["202"],
                "tts_entity": "tts.piper",
                "media_player": "media_player.office",
                "message": "Anruf für {user}: {caller}",
            },
        ),
    )
    await wildix.post_all(*INBOUND_ANSWERED[:3])
    assert spoken(speak) == [
        (
            ["tts.piper"],
            "media_player.kitchen",
            "+4930555010203 is calling Alice Example",
        )
    ]
    await wildix.post_all(*INTERNAL[:2], *INTERNAL_LIVE)
    assert spoken(speak) == [
        (["tts.piper"], "media_player.office", "Anruf für Bob Example: Carol Example")
    ]


@pytest.mark.usefixtures("blueprints_installed")
async def test_announce_the_caller_privacy(
    hass: HomeAssistant, wildix: WildixSender, setup_integration: MockConfigEntry
) -> None:
    """With outside numbers hidden the announcement names no one."""
    devices = await async_known_users(hass, wildix, "201")
    hass.config_entries.async_update_entry(
        setup_integration, options={"show_remote": False}
    )
    await hass.async_block_till_done()
    speak = async_mock_service(hass, "tts", "speak")
    await use_blueprints(
        hass,
        (
            "announce_caller.yaml",
            {
                "pbx_user": devices["201"],
                "tts_entity": "tts.piper",
                "media_player": "media_player.kitchen",
            },
        ),
    )
    await wildix.post("call_update_inbound_ringing")
    assert spoken(speak) == [
        (
            ["tts.piper"],
            "media_player.kitchen",
            "An unknown caller is calling Alice Example",
        )
    ]


@pytest.mark.usefixtures("blueprints_installed")
async def test_call_back_from_the_todo_list(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A missed call offers a button; pressing it calls the caller from Alice's phone."""
    devices = await async_known_users(hass, wildix, "201")
    notified = async_mock_service(hass, "notify", "phone")
    calls = async_mock_service(hass, DOMAIN, "call")
    await use_blueprints(
        hass,
        (
            "call_back_from_todo.yaml",
            {"pbx_user": devices["201"], "notify_action": "notify.phone"},
        ),
    )
    await wildix.post_all(*INBOUND_MISSED[:-1])
    await post_while_waiting(hass, wildix, INBOUND_MISSED[-1])
    (sent,) = notified
    assert sent.data["message"] == "+4940555777888 tried to reach you"
    (button,) = sent.data["data"]["actions"]
    assert button["title"] == "Call back"
    assert calls == []
    hass.bus.async_fire("mobile_app_notification_action", {"action": "another"})
    for _ in range(10):
        await asyncio.sleep(0)
    assert calls == []
    hass.bus.async_fire("mobile_app_notification_action", {"action": button["action"]})
    await hass.async_block_till_done()
    (call,) = calls
    assert call.data == {"device_id": devices["201"], "number": "+4940555777888"}
