"""Every answer the sources allow, and none that hurts: the fake PBX's hostile knobs.

Through real Home Assistant and the fake PBX over real HTTP; time passes only through
the frozen clock (`later`, `async_fire_time_changed`).
"""

import asyncio
from datetime import timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wildix import coordinator
from custom_components.wildix.const import DOMAIN

from .common import ENTRY_ID, add_entry as add_any_entry, entry_data
from .fake_pbx import FakePbx
from .test_pbx_api import device_names, later, registered, state

pytestmark = pytest.mark.usefixtures("socket_enabled")

COLLEAGUES = "/api/v1/PBX/Colleagues"
REGISTRATIONS = "/api/v1/PBX/Users/Sip/Registrations"
SWITCHES = "/api/v1/Dialplan/Switches"
NIGHT = "switch.office_nightservice"
OFFICE = "select.office_officemode"
DOUBTFUL = f"directory_doubtful_{ENTRY_ID}"


@pytest.fixture(autouse=True)
async def webhook_component(hass: HomeAssistant) -> None:
    """Load the webhook component."""
    assert await async_setup_component(hass, "webhook", {})


@pytest.fixture
async def entry(hass: HomeAssistant, pbx: FakePbx) -> MockConfigEntry:
    """Return an entry connected to the fake PBX, set up and polled once."""
    return await add_entry(hass, pbx)


async def add_entry(hass: HomeAssistant, pbx: FakePbx) -> MockConfigEntry:
    """Set up a webhook entry titled Office, connected to the fake PBX."""
    return await add_any_entry(hass, pbx, **entry_data())


def asked(pbx: FakePbx, method: str, path: str) -> list[Any]:
    """Return the bodies of the requests for a route (with or without slash)."""
    return [
        body
        for asked_method, asked_path, _, body in pbx.requests
        if asked_method == method and asked_path.rstrip("/") == path
    ]


def shown(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


async def arrived(pbx: FakePbx, count: int) -> None:
    """Yield to the loop until `count` held answers are waiting."""
    for _ in range(100_000):
        if len(pbx.arrived) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError("the held request did not arrive")


async def arrived_at(pbx: FakePbx, path: str) -> None:
    """Yield to the loop until the fake PBX was asked for `path`."""
    for _ in range(100_000):
        if any(asked_path == path for _, asked_path, _, _ in pbx.requests):
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{path} was not asked")


def add_users(pbx: FakePbx, count: int) -> None:
    """Give the PBX more users, so that the directory needs two pages."""
    for n in range(count):
        pbx.add_user(str(300 + n), f"User {300 + n}")


# Ids, totals and states as text or numbers.


async def test_numbers_as_text_everywhere(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """Ids, totals, states and flags sent as text are read as the numbers they are."""
    pbx.numbers_as_text = True
    pbx.switches[1].state = 1
    pbx.switches[2].state = 2
    entry = await add_entry(hass, pbx)
    assert device_names(hass, entry)["203"] == "Chiara Rossi"
    assert registered(hass, entry, "201").state == STATE_ON
    assert registered(hass, entry, "204").state == STATE_OFF
    assert shown(hass, NIGHT) == STATE_ON
    assert shown(hass, OFFICE) == "2"
    # A total as text still ends the paging and lets removals through.
    pbx.remove_user("204")
    await later(hass, freezer, 601)
    assert "204" not in device_names(hass, entry)


# Writes: any 2xx without the error envelope is success, anything else is not.


@pytest.mark.parametrize(
    "reply",
    [
        (204, b""),
        (200, b""),
        (200, b'"Success"'),
        (200, b"{}"),
        (201, b'{"message": "done"}'),
        (200, b'{"result": "Success"}'),
    ],
)
async def test_writes_succeed_on_any_2xx_without_an_error_envelope(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry, reply: Any
) -> None:
    """Empty, `"Success"`, `{}`, `{message}`: the switch is set and shows it."""
    pbx.write_reply = reply
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": NIGHT}, blocking=True
    )
    assert pbx.switches[1].state == 1
    assert shown(hass, NIGHT) == STATE_ON


@pytest.mark.parametrize(
    "reply",
    [
        (200, b'{"type": "error", "reason": "No", "code": 1}'),
        (302, b""),
        (400, b""),
        (409, b'{"message": "busy"}'),
    ],
)
async def test_writes_fail_on_anything_else(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry, reply: Any
) -> None:
    """An error envelope (even with 200), a redirect or a 4xx: the write failed."""
    status, body = reply
    pbx.raw[f"{SWITCHES}/1"] = (status, body, "application/json")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": NIGHT}, blocking=True
        )
    assert shown(hass, NIGHT) == STATE_OFF


# Directory safety.


async def test_empty_directory_removes_nobody(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An empty listing keeps every user: logged once, a repair issue after 3 polls."""
    users = dict(pbx.users)
    pbx.users.clear()
    issues = ir.async_get(hass)
    for _ in range(2):
        await later(hass, freezer, 601)
        assert set(device_names(hass, entry)) == set(users)
        assert issues.async_get_issue(DOMAIN, DOUBTFUL) is None
    await later(hass, freezer, 601)
    issue = issues.async_get_issue(DOMAIN, DOUBTFUL)
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "Office",
        "reason": "the PBX listed no user",
    }
    assert caplog.text.count("cannot be trusted") == 1

    pbx.users.update(users)
    pbx.remove_user("204")
    await later(hass, freezer, 601)
    assert issues.async_get_issue(DOMAIN, DOUBTFUL) is None
    assert "204" not in device_names(hass, entry)


async def test_directory_that_ignores_start_removes_nobody(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """Pages that repeat (the PBX ignores `start`) do not make a complete listing."""
    add_users(pbx, 60)
    entry = await add_entry(hass, pbx)
    assert len(device_names(hass, entry)) == 64
    pbx.ignore_start = True
    pbx.remove_user("203")
    await later(hass, freezer, 601)
    names = device_names(hass, entry)
    assert len(names) == 64
    assert "203" in names
    assert "359" in names


async def test_fewer_records_than_total_removes_nobody(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A listing shorter than the `total` it announces is not complete."""
    pbx.total_extra = 2
    pbx.remove_user("204")
    await later(hass, freezer, 601)
    assert "204" in device_names(hass, entry)


async def test_more_than_half_gone_at_once_removes_nobody(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Three of four users gone in one poll: nobody goes; one of four: it goes."""
    kept = pbx.users["201"]
    others = {ext: user for ext, user in pbx.users.items() if ext != "201"}
    pbx.users.clear()
    pbx.users["201"] = kept
    await later(hass, freezer, 601)
    assert set(device_names(hass, entry)) == {"201", "202", "203", "204"}

    pbx.users.update(others)
    pbx.remove_user("204")
    await later(hass, freezer, 601)
    assert set(device_names(hass, entry)) == {"201", "202", "203"}


async def test_bad_or_long_extensions_are_skipped_never_cut(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """An extension over 32 characters, or against the rule, gets no device at all."""
    pbx.add_user("2" * 40, "Too Long")
    pbx.add_user("...", "Dots")
    pbx.add_user("2" * 32, "Longest Allowed")
    entry = await add_entry(hass, pbx)
    names = device_names(hass, entry)
    assert names["2" * 32] == "Longest Allowed"
    assert "Too Long" not in names.values()
    assert "Dots" not in names.values()
    assert len(names) == 5


# Setup never waits on the PBX; a poll has a deadline across pages.


@pytest.mark.timeout(60)
async def test_setup_never_waits_on_the_pbx(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """A PBX that never answers: the entry loads at once; API entities come with data."""
    pbx.slow.add("/api")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Office",
        entry_id=ENTRY_ID,
        data=entry_data(pbx_url=pbx.url, api_token=pbx.token, verify_ssl=True),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id("sensor", DOMAIN, f"{ENTRY_ID}_pbx_version")
        is None
    )
    assert hass.states.get(NIGHT) is None

    # The first request times out; the PBX answers from then on: entities appear.
    await arrived_at(pbx, "/api/v1/personal/info")
    pbx.heal()
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert device_names(hass, entry)["201"] == "Alice Martin"
    assert registered(hass, entry, "201").state == STATE_ON
    assert state(hass, entry, "sensor", "pbx_version").state == pbx.version
    assert shown(hass, NIGHT) == STATE_OFF


@pytest.mark.timeout(60)
async def test_a_poll_has_one_deadline_across_pages(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two pages, each in time, that together take longer than the poll may: it fails."""
    add_users(pbx, 60)
    first, second = asyncio.Event(), asyncio.Event()
    with patch.object(coordinator, "API_TIMEOUT", 100):
        entry = await add_entry(hass, pbx)
        pbx.held[COLLEAGUES] = first
        freezer.tick(timedelta(seconds=601))
        async_fire_time_changed(hass)
        await arrived(pbx, 1)
        # Page one took 70 s, page two takes 70 s more: each is within 100 s.
        pbx.held[COLLEAGUES] = second
        freezer.tick(timedelta(seconds=70))
        async_fire_time_changed(hass)
        first.set()
        await arrived(pbx, 2)
        freezer.tick(timedelta(seconds=70))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        second.set()
    assert pbx.arrived == [COLLEAGUES, COLLEAGUES]
    assert f"no answer within {coordinator.POLL_DEADLINE:g} s" in caplog.text
    assert len(device_names(hass, entry)) == 64


# Busy PBX: 429 and 503 back off, as Retry-After says (at most an hour).


@pytest.mark.parametrize(
    "busy", [(429, "300", 300), (503, "7200", 3600), (429, None, 120)]
)
async def test_busy_pbx_backs_off(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    busy: tuple[int, str | None, int],
) -> None:
    """The registrations poll waits as long as the PBX asked, never over an hour."""
    status, retry_after, wait = busy
    pbx.throttle[REGISTRATIONS] = (status, retry_after)
    await later(hass, freezer, 61)
    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    before = len(asked(pbx, "GET", REGISTRATIONS))
    pbx.heal()
    await later(hass, freezer, wait - 2)
    assert len(asked(pbx, "GET", REGISTRATIONS)) == before
    await later(hass, freezer, 2)
    assert len(asked(pbx, "GET", REGISTRATIONS)) == before + 1
    assert registered(hass, entry, "201").state == STATE_ON
    # Back to the usual minute.
    await later(hass, freezer, 61)
    assert len(asked(pbx, "GET", REGISTRATIONS)) == before + 2


async def test_retry_after_as_a_date(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """`Retry-After` may be an HTTP date."""
    from email.utils import format_datetime  # noqa: PLC0415

    from homeassistant.util import dt as dt_util  # noqa: PLC0415

    when = dt_util.utcnow() + timedelta(seconds=61 + 600)
    pbx.throttle[REGISTRATIONS] = (503, format_datetime(when, usegmt=True))
    await later(hass, freezer, 61)
    before = len(asked(pbx, "GET", REGISTRATIONS))
    pbx.heal()
    await later(hass, freezer, 590)
    assert len(asked(pbx, "GET", REGISTRATIONS)) == before
    await later(hass, freezer, 15)
    assert len(asked(pbx, "GET", REGISTRATIONS)) == before + 1


# An unexpected error: its traceback once per outage.


async def test_unexpected_error_is_logged_once_per_outage(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in reading an answer: traceback once, quiet while it lasts, again later."""
    api = entry.runtime_data.pbx_api
    assert api is not None
    with patch.object(
        api.client, "async_get_registrations", side_effect=RuntimeError("boom")
    ):
        for _ in range(3):
            await later(hass, freezer, 61)
        assert len(tracebacks(caplog)) == 1
        assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    await later(hass, freezer, 61)
    assert registered(hass, entry, "201").state == STATE_ON
    with patch.object(
        api.client, "async_get_registrations", side_effect=RuntimeError("boom")
    ):
        await later(hass, freezer, 61)
    assert len(tracebacks(caplog)) == 2


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the integration's log records above debug level with a traceback."""
    return [
        record
        for record in caplog.records
        if record.exc_info
        and record.levelno > logging.DEBUG
        and record.name.startswith("custom_components.wildix")
    ]


# Switches.


async def test_tree_switch_offers_at_most_16_states(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A state of 16 or more: unavailable, with one log line; 15 offers 0 to 15."""
    pbx.switches[2].states = 40
    pbx.switches[2].state = 16
    await later(hass, freezer, 61)
    await later(hass, freezer, 61)
    assert shown(hass, OFFICE) == STATE_UNAVAILABLE
    assert caplog.text.count("at most 16 states") == 1

    pbx.switches[2].state = 15
    await later(hass, freezer, 61)
    found = hass.states.get(OFFICE)
    assert found is not None
    assert found.state == "15"
    assert found.attributes["options"] == [str(n) for n in range(16)]


async def test_switch_ids_are_digits(hass: HomeAssistant, pbx: FakePbx) -> None:
    """Ids that could lead a write off its route are not switches at all."""
    records = [
        {"id": "..", "title": "Dots", "state": 0, "isTreeType": False},
        {"id": "1/../../../x", "title": "Slash", "state": 0, "isTreeType": False},
        {"id": "a.b", "title": "Letters", "state": 0, "isTreeType": False},
        {"id": "7", "title": "Seven", "state": 1, "isTreeType": False},
    ]
    body = json.dumps(
        {"type": "result", "result": {"records": records, "total": len(records)}}
    )
    pbx.raw[SWITCHES] = (200, body.encode(), "application/json")
    entry = await add_entry(hass, pbx)
    switches = [
        e.unique_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.translation_key == "dialplan_switch"
    ]
    assert switches == [f"{ENTRY_ID}_switch_7"]
    assert shown(hass, "switch.office_seven") == STATE_ON


@pytest.mark.timeout(60)
async def test_a_poll_in_flight_never_undoes_a_write(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A poll that read the old state before a write answers after it: the write stays."""
    held = asyncio.Event()
    pbx.held[SWITCHES] = held
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await arrived(pbx, 1)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": NIGHT}, blocking=True
    )
    assert shown(hass, NIGHT) == STATE_ON
    held.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert shown(hass, NIGHT) == STATE_ON
    del pbx.held[SWITCHES]
    # The next poll reads the PBX after the write: on, as written.
    await later(hass, freezer, 61)
    assert shown(hass, NIGHT) == STATE_ON


async def test_a_refused_write_shows_the_state_read_after_it(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Someone turned the switch on at the PBX; our refused write shows it on at once."""
    pbx.switches[1].state = 1
    assert shown(hass, NIGHT) == STATE_OFF
    pbx.failing[f"{SWITCHES}/1"] = 400
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": NIGHT}, blocking=True
        )
    assert shown(hass, NIGHT) == STATE_ON


# The PBX's error text.


async def test_pbx_error_text_is_never_shown(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The error says the status; the PBX's text is in the debug log only, redacted."""
    caplog.set_level(logging.DEBUG, logger="custom_components.wildix.pbx_transport")
    text = "Denied <b>for</b> access_leaked0123456789 on db-7"
    body = json.dumps({"type": "error", "reason": text, "code": 400})
    pbx.raw[f"{SWITCHES}/1"] = (400, body.encode(), "application/json")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": NIGHT}, blocking=True
        )
    assert "HTTP 400" in str(raised.value)
    assert "Denied" not in str(raised.value)
    debug = [r for r in caplog.records if "Denied" in r.getMessage()]
    assert [r.levelno for r in debug] == [logging.DEBUG]
    assert "access_leaked" not in caplog.text
    assert "access_***" in debug[0].getMessage()


# set_presence writes each user once.


async def test_set_presence_writes_each_user_once(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A user listed three times is written once."""
    from .test_actions import device  # noqa: PLC0415

    bruno, chiara = device(hass, "202"), device(hass, "203")
    await hass.services.async_call(
        DOMAIN,
        "set_presence",
        {"device_id": [bruno, chiara, bruno, bruno], "status": "away"},
        blocking=True,
    )
    assert len(asked(pbx, "PUT", "/api/v1/User/202/Presence")) == 1
    assert len(asked(pbx, "PUT", "/api/v1/User/203/Presence")) == 1
    assert pbx.users["202"].presence == "away"


# http:// only on the own network; another host asks for its token.


@pytest.mark.parametrize(
    "url", ["http://pbx.example.com", "http://93.184.216.34:8080", "pbx.example.com:80"]
)
async def test_plain_http_only_on_the_own_network(
    hass: HomeAssistant, pbx: FakePbx, url: str
) -> None:
    """A public host over http:// is refused before any request; loopback is fine."""
    from .common import SECRET  # noqa: PLC0415
    from .test_pbx_api import section, start_flow  # noqa: PLC0415

    if not url.startswith("http"):
        url = f"http://{url}"
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass), {"secret": SECRET, "pbx_api": section(pbx, url=url)}
    )
    assert result["errors"] == {"base": "insecure_pbx_url"}
    assert pbx.requests == []
    # A loopback address over http is the own machine: accepted.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET, "pbx_api": section(pbx)}
    )
    assert not result.get("errors"), result.get("errors")
    assert pbx.requests
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_reconfigure_to_another_host_asks_for_the_token(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """An empty token keeps the saved one for the same host only."""

    async def reconfigure(form: dict[str, Any]) -> Any:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "reconfigure_pbx_api"}
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
        if result.get("step_id") == "pbx_capabilities":
            # A working connection: its capability table, then saved.
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {}
            )
        return result

    # Another port is another server: it needs its own token.
    other = "http://127.0.0.1:9"
    result = await reconfigure({"url": other, "token": "", "verify_ssl": True})
    assert result["errors"] == {"base": "token_required"}
    # With a token of its own, the other host is asked (nothing listens there).
    result = await reconfigure(
        {"url": other, "token": "access_other", "verify_ssl": True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # The same host with an empty token keeps the saved one.
    result = await reconfigure({"url": pbx.url, "token": "", "verify_ssl": True})
    assert result.get("reason") == "reconfigure_pbx_api_successful", result
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["api_token"] == pbx.token
