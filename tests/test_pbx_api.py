"""The PBX API connection: set up through the real config flow against the fake PBX."""

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN
from custom_components.wildix.diagnostics import async_get_config_entry_diagnostics

from .common import SECRET, WildixSender, load_event
from .fake_pbx import FakePbx

pytestmark = pytest.mark.usefixtures("socket_enabled")

REGISTRATIONS = "/api/v1/PBX/Users/Sip/Registrations"
COLLEAGUES = "/api/v1/PBX/Colleagues"
VERSION = "/api/v1/PBX/version"
SWITCHES = "/api/v1/Dialplan/Switches"


@pytest.fixture(autouse=True)
async def webhook_component(hass: HomeAssistant) -> None:
    """Load the webhook component and give Home Assistant an external URL."""
    assert await async_setup_component(hass, "webhook", {})
    hass.config.external_url = "https://example.duckdns.org"


def section(pbx: FakePbx, **changes: Any) -> dict[str, Any]:
    """Return the form's PBX API section for the fake PBX."""
    return {"url": pbx.url, "token": pbx.token, "verify_ssl": True} | changes


async def start_flow(hass: HomeAssistant) -> str:
    """Open the first form; return the flow id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    return str(result["flow_id"])


async def add_entry(hass: HomeAssistant, pbx: FakePbx, **changes: Any) -> ConfigEntry:
    """Create and set up an entry with a connection to the fake PBX, as a user does."""
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass), {"secret": SECRET, "pbx_api": section(pbx, **changes)}
    )
    # The last step shows the capability table; submitting it creates the entry.
    assert result["step_id"] == "pbx_capabilities", result.get("errors")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    # The PBX API's first polls run in the background.
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


def sender(
    hass: HomeAssistant,
    entry: ConfigEntry,
    client: Any,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Return a sender of signed events to the entry's webhook."""
    return WildixSender(hass, client, freezer, entry.data["webhook_id"], SECRET)


def state(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> Any:
    """Return the state of an entity by its unique id's tail."""
    entity_id = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{key}"
    )
    assert entity_id is not None, key
    return hass.states.get(entity_id)


def registered(hass: HomeAssistant, entry: ConfigEntry, extension: str) -> Any:
    """Return the registration sensor's state of a user."""
    return state(hass, entry, "binary_sensor", f"{extension}_registered")


def device_names(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, str | None]:
    """Return the user devices of the entry: extension -> name."""
    prefix = f"{entry.entry_id}_"
    names: dict[str, str | None] = {}
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id):
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier.startswith(prefix):
                names[identifier.removeprefix(prefix)] = device.name
    return names


async def later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let time pass, so that the polls due meanwhile run."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_directory_users_are_devices_before_any_event(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Every PBX user is a named device with its registration as soon as the entry exists."""
    entry = await add_entry(hass, pbx)

    assert entry.data["pbx_url"] == pbx.url
    assert entry.data["api_token"] == pbx.token
    assert entry.data["verify_ssl"] is True
    assert device_names(hass, entry) == {
        "201": "Alice Martin",
        "202": "Bruno Keller",
        "203": "Chiara Rossi",
        "204": "Reception",
    }
    alice = registered(hass, entry, "201")
    assert alice.state == STATE_ON
    assert alice.attributes["device_class"] == "connectivity"
    assert alice.attributes["registered_devices"] == 1
    assert alice.attributes["user_agents"] == ["Wildix WP480G 3.10.2"]
    assert alice.attributes["department"] == "Sales"
    assert alice.attributes["role"] == "admin"
    assert alice.attributes["license"] == "business"
    assert alice.attributes["email"] == "alice@example.invalid"
    reception = registered(hass, entry, "204")
    assert reception.state == STATE_OFF
    assert reception.attributes["registered_devices"] == 0
    assert reception.attributes["license"] == "basic"
    version = state(hass, entry, "sensor", "pbx_version")
    assert version.state == pbx.version
    assert er.async_get(hass).async_get(version.entity_id).entity_category == (
        "diagnostic"
    )
    # Event-fed entities exist for directory users too.
    assert state(hass, entry, "sensor", "201_phone").state == "idle"


async def test_diagnostics_show_the_connection_never_the_token(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Diagnostics tell the connection's state and capabilities; the token is redacted."""
    entry = await add_entry(hass, pbx)
    pbx.missing.add(VERSION)
    await entry.runtime_data.pbx_api.version.async_refresh()

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)

    assert pbx.token not in repr(diagnostics)
    assert diagnostics["entry"]["data"]["api_token"] == "**REDACTED**"
    assert diagnostics["pbx_api"] == {
        "url": pbx.url,
        "directory": {
            "supported": True,
            "last_update_success": True,
            "last_error": None,
        },
        "registrations": {
            "supported": True,
            "last_update_success": True,
            "last_error": None,
        },
        "switches": {
            "supported": True,
            "last_update_success": True,
            "last_error": None,
        },
        "switch_states": [
            {"id": "1", "title": "NightService", "state": 0, "tree": False},
            {"id": "2", "title": "OfficeMode", "state": 0, "tree": True},
        ],
        "version": {
            "supported": False,
            "last_update_success": True,
            "last_error": None,
        },
        "version_value": None,
        "directory_users": 4,
        "directory_complete": True,
        "directory_route": "/api/v1/PBX/Colleagues",
        "own_extension": "201",
        "capabilities": [
            {
                "feature": "directory",
                "usable": "✔",
                "why": "admin view (/api/v1/PBX/Colleagues)",
                "needs": "any user's token",
            },
            {
                "feature": "registrations",
                "usable": "✔",
                "why": "readable",
                "needs": "an admin's token",
            },
            {
                "feature": "version",
                "usable": "✘",
                "why": "missing (HTTP 404 on /api/v1/PBX/version)",
                "needs": "an admin's token",
            },
            {
                "feature": "switches",
                "usable": "✔",
                "why": "readable",
                "needs": "an admin's token",
            },
            {
                "feature": "presence_own",
                "usable": "✔",
                "why": "as 201",
                "needs": "any user's token",
            },
            {
                "feature": "presence_others",
                "usable": "✔",
                "why": "any user",
                "needs": "an admin's token",
            },
            {
                "feature": "call_control_own",
                "usable": "✔",
                "why": "as 201",
                "needs": "any user's token",
            },
            {
                "feature": "call_control_others",
                "usable": "✔",
                "why": "any user (API v2)",
                "needs": "an admin's token",
            },
            {
                "feature": "voicemail",
                "usable": "✔",
                "why": "readable",
                "needs": "an admin's token",
            },
            {
                "feature": "call_history",
                "usable": "✔",
                "why": "readable",
                "needs": "any user's token (own user)",
            },
            {
                "feature": "contacts",
                "usable": "✔",
                "why": "readable",
                "needs": "any user's token",
            },
        ],
        "call_control": None,
    }


async def test_secret_alone_makes_no_connection(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """An empty address means no connection: no API entities, no requests."""
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass),
        {"secret": SECRET, "pbx_api": {"url": "", "token": "", "verify_ssl": True}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert "pbx_url" not in entry.data
    assert device_names(hass, entry) == {}
    assert pbx.requests == []
    assert "pbx_api" not in await async_get_config_entry_diagnostics(hass, entry)


@pytest.mark.parametrize(
    ("breakage", "changes", "error"),
    [
        (lambda pbx: None, {"token": "access_wrong"}, "invalid_auth"),
        (lambda pbx: None, {"token": "has space"}, "invalid_auth"),
        (
            lambda pbx: pbx.failing.update({"/api/v1/personal": 503}),
            {},
            "cannot_connect",
        ),
        (
            lambda pbx: pbx.raw.update(
                {"/": (200, b"<html>login</html>", "text/html")}
            ),
            {},
            "not_a_wildix_pbx",
        ),
        (lambda pbx: pbx.missing.add("/api/v1/personal"), {}, "not_a_wildix_pbx"),
        (lambda pbx: None, {"token": ""}, "token_required"),
        (lambda pbx: None, {"url": "ftp://pbx.example.invalid"}, "invalid_pbx_url"),
    ],
)
async def test_form_errors_then_fixed(
    hass: HomeAssistant,
    pbx: FakePbx,
    breakage: Any,
    changes: dict[str, Any],
    error: str,
) -> None:
    """A connection that cannot work is a form error; once fixed, the entry is made."""
    breakage(pbx)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"secret": SECRET, "pbx_api": section(pbx, **changes)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert hass.config_entries.async_entries(DOMAIN) == []

    pbx.heal()
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"secret": SECRET, "pbx_api": section(pbx)}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def asked(pbx: FakePbx, path: str, before: int = 0) -> None:
    """Wait until the fake PBX has been asked for `path` more than `before` times."""
    # The loop's clock is frozen: yield to it (and its sockets) rather than sleep.
    for _ in range(100_000):
        if sum(r[1].startswith(path) for r in pbx.requests) > before:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{path} was not asked")


async def time_out(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: FakePbx,
    path: str,
    waiting: Awaitable[Any] | None = None,
) -> Any:
    """Let a request to a slow route time out (the loop's clock is frozen in tests)."""
    await asked(pbx, path)
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    result = None if waiting is None else await waiting
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


async def test_slow_pbx_is_a_form_error(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """No answer in time: cannot_connect."""
    pbx.slow.add("/api/v1/personal")
    flow_id = await start_flow(hass)
    waiting = asyncio.ensure_future(
        hass.config_entries.flow.async_configure(
            flow_id, {"secret": SECRET, "pbx_api": section(pbx)}
        )
    )
    result = await time_out(hass, freezer, pbx, "/api/v1/personal", waiting)
    assert result["errors"] == {"base": "cannot_connect"}


async def test_slow_registrations_make_their_entities_unavailable(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A poll without an answer in time: unavailable, logged once; back when it answers."""
    # The timeout fires for every request in flight (the loop's clock is frozen): the
    # switches, polled at the same moment, are left out.
    pbx.missing.add(SWITCHES)
    entry = await add_entry(hass, pbx)
    pbx.requests.clear()
    pbx.slow.add(REGISTRATIONS)
    caplog.clear()
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await time_out(hass, freezer, pbx, REGISTRATIONS)

    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    assert state(hass, entry, "sensor", "201_phone").state == "idle"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1

    pbx.heal()
    await later(hass, freezer, 61)
    assert registered(hass, entry, "201").state == STATE_ON
    assert caplog.text.count("recovered") == 1


async def test_unreachable_pbx_is_a_form_error(hass: HomeAssistant) -> None:
    """Nothing listening at the address: cannot_connect."""
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass),
        {
            "secret": SECRET,
            "pbx_api": {"url": "http://127.0.0.1:9", "token": "access_x"},
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_bad_secret_is_reported_before_the_pbx_is_asked(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """The secret's error comes first, without a request to the PBX."""
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass), {"secret": "", "pbx_api": section(pbx)}
    )
    assert result["errors"] == {"secret": "secret_required"}
    assert pbx.requests == []


async def test_expired_token_asks_for_a_new_one(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """A token the PBX stops accepting starts reauthentication; a new token fixes it."""
    entry = await add_entry(hass, pbx)
    pbx.token = "access_renewed0123456789"

    await later(hass, freezer, 61)

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["step_id"] == "reauth_pbx_api"
    assert result["description_placeholders"]["url"] == pbx.url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": "access_stillwrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": pbx.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_pbx_api_successful"
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.data["api_token"] == pbx.token
    assert entry.state is ConfigEntryState.LOADED
    assert registered(hass, entry, "201").state == STATE_ON


async def test_missing_routes_turn_their_feature_off_once(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 route turns its feature off with one log line and is not asked again."""
    pbx.missing.update({REGISTRATIONS, VERSION})
    entry = await add_entry(hass, pbx)

    assert device_names(hass, entry)["201"] == "Alice Martin"
    registry = er.async_get(hass)
    keys = {
        e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert f"{entry.entry_id}_201_registered" not in keys
    assert f"{entry.entry_id}_pbx_version" not in keys
    # Asked by the flow's last step and by the entry's probe, never by a poll.
    asked = [r for r in pbx.requests if r[1].startswith(REGISTRATIONS)]
    assert len(asked) == 2

    await later(hass, freezer, 3600)

    assert [r for r in pbx.requests if r[1].startswith(REGISTRATIONS)] == asked
    assert len([r for r in pbx.requests if r[1].startswith(VERSION)]) == 2
    assert caplog.text.count("feature registrations is off: missing") == 1
    assert caplog.text.count("feature version is off: missing") == 1


async def test_route_lost_later_makes_entities_unavailable(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """A route that starts answering 404 turns its entities unavailable and stops polling."""
    entry = await add_entry(hass, pbx)
    pbx.missing.add(REGISTRATIONS)

    await later(hass, freezer, 61)
    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    count = len(pbx.requests)
    await later(hass, freezer, 300)
    assert not [r for r in pbx.requests[count:] if r[1].startswith(REGISTRATIONS)]


async def test_unreachable_api_only_affects_api_entities(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx answers: API entities go unavailable (logged once), events go on."""
    entry = await add_entry(hass, pbx)
    pbx.failing["/api/v1/PBX"] = 503
    caplog.clear()

    await later(hass, freezer, 61)
    await later(hass, freezer, 61)
    await later(hass, freezer, 600)

    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE
    assert state(hass, entry, "sensor", "pbx_version").state == STATE_UNAVAILABLE
    assert state(hass, entry, "binary_sensor", "201_ringing").state == STATE_OFF
    assert device_names(hass, entry)["201"] == "Alice Martin"
    lost = [r for r in caplog.records if r.levelno == logging.ERROR]
    # Registrations, version, directory: each feature on its own.
    assert len(lost) == 3, [r.getMessage() for r in lost]

    pbx.heal()
    # 503 made the polls back off: the directory's next one is 20 minutes away.
    await later(hass, freezer, 1200)
    assert registered(hass, entry, "201").state == STATE_ON
    assert state(hass, entry, "sensor", "pbx_version").state == pbx.version
    assert caplog.text.count("recovered") == 3


async def test_unreachable_at_setup_still_loads(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """A PBX down while Home Assistant starts: the entry loads and catches up later."""
    entry = await add_entry(hass, pbx)
    pbx.failing["/api/v1/PBX"] = 503
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert registered(hass, entry, "201").state == STATE_UNAVAILABLE

    pbx.heal()
    await later(hass, freezer, 601)
    assert registered(hass, entry, "201").state == STATE_ON


async def test_users_added_and_removed_on_the_pbx(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """The directory is read every 10 minutes: new users appear, removed ones go."""
    entry = await add_entry(hass, pbx)
    pbx.add_user("205", "Dora Weber", department="Support")
    pbx.register("205")
    pbx.remove_user("202")

    await later(hass, freezer, 61)
    assert "205" not in device_names(hass, entry)

    await later(hass, freezer, 600)
    names = device_names(hass, entry)
    assert names["205"] == "Dora Weber"
    assert "202" not in names
    assert registered(hass, entry, "205").state == STATE_ON
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id(
            "binary_sensor", DOMAIN, f"{entry.entry_id}_202_registered"
        )
        is None
    )


async def test_registration_follows_polls_and_telephony_events(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Polls every minute; a telephony event shows a phone at once, until the next poll."""
    entry = await add_entry(hass, pbx)
    wildix = sender(hass, entry, await hass_client_no_auth(), freezer)
    pbx.unregister("201")
    pbx.register("203", "Yealink SIP-T54W 96.86")

    await later(hass, freezer, 61)
    assert registered(hass, entry, "201").state == STATE_OFF
    chiara = registered(hass, entry, "203")
    assert chiara.attributes["registered_devices"] == 2
    assert chiara.attributes["user_agents"] == [
        "Wildix WP480G 3.10.2",
        "Yealink SIP-T54W 96.86",
    ]

    event = load_event("presence_telephony_registered")
    event["data"]["extension"] = "204"
    event["time"] = int(freezer().timestamp() * 1000) + 5000  # type: ignore[operator]
    await wildix.post(event)
    assert registered(hass, entry, "204").state == STATE_ON

    await later(hass, freezer, 61)
    assert registered(hass, entry, "204").state == STATE_OFF


async def test_directory_name_wins_and_event_only_users_still_work(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Events cannot rename a directory user; a user only events know is made as before."""
    pbx.remove_user("203")
    entry = await add_entry(hass, pbx)
    wildix = sender(hass, entry, await hass_client_no_auth(), freezer)
    assert "203" not in device_names(hass, entry)

    # Carol (203) calls 202: she is known from the event alone.
    await wildix.post("call_start_internal")
    # The same call as if 201 had made it under Carol's name.
    event = load_event("call_start_internal", id="de_w204518_1741087801.1")
    event["data"]["caller"] |= {"phone": "201", "userExtension": "201"}
    await wildix.post(event)

    names = device_names(hass, entry)
    assert names["203"] == "Carol Example"
    assert names["201"] == "Alice Martin"
    assert state(hass, entry, "sensor", "203_phone").state == "dialing"
    assert "email" not in registered(hass, entry, "203").attributes


async def test_privacy_option_hides_colleagues_email(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """With outside parties hidden, the registration sensor shows no email either."""
    entry = await add_entry(hass, pbx)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    options = {
        "extensions": [],
        "stale_call_timeout": 4,
        "max_event_age": 10,
        "show_remote": False,
        "max_users": 500,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    alice = registered(hass, entry, "201")
    assert "email" not in alice.attributes
    assert alice.attributes["department"] == "Sales"


async def test_user_filter_and_limit_apply_to_the_directory(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Only the chosen users become devices; widening the filter brings the others back."""
    entry = await add_entry(hass, pbx)

    async def set_options(extensions: list[str], max_users: int) -> None:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "extensions": extensions,
                "stale_call_timeout": 4,
                "max_event_age": 10,
                "show_remote": True,
                "max_users": max_users,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

    await set_options(["201", "203"], 500)
    assert set(device_names(hass, entry)) == {"201", "203"}

    await set_options([], 500)
    assert set(device_names(hass, entry)) == {"201", "202", "203", "204"}
    assert registered(hass, entry, "202").state == STATE_ON

    await set_options([], 2)
    assert len(device_names(hass, entry)) == 2


async def test_reconfigure_adds_changes_and_removes_the_connection(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """The reconfigure menu connects an entry, keeps the token if left empty, and removes it."""
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass), {"secret": SECRET}
    )
    await hass.async_block_till_done()
    entry = result["result"]
    assert device_names(hass, entry) == {}

    async def reconfigure(form: dict[str, Any]) -> Any:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
        assert "reconfigure_pbx_api" in result["menu_options"]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "reconfigure_pbx_api"}
        )
        assert result["step_id"] == "reconfigure_pbx_api"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
        if form.get("url") and not result.get("errors"):
            # A working connection: its capability table, then saved.
            assert result["step_id"] == "pbx_capabilities"
            assert "- directory: ✔" in result["description_placeholders"]["table"]
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {}
            )
        return result

    result = await reconfigure(section(pbx, token="access_wrong"))
    assert result["errors"] == {"base": "invalid_auth"}
    result = await reconfigure(section(pbx))
    assert result["reason"] == "reconfigure_pbx_api_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert device_names(hass, entry)["204"] == "Reception"

    result = await reconfigure({"url": pbx.url, "token": "", "verify_ssl": False})
    assert result["reason"] == "reconfigure_pbx_api_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["api_token"] == pbx.token
    assert entry.data["verify_ssl"] is False
    assert registered(hass, entry, "201").state == STATE_ON

    result = await reconfigure({"url": "", "token": ""})
    assert result["reason"] == "reconfigure_pbx_api_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not {"pbx_url", "api_token", "verify_ssl"} & set(entry.data)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.pbx_api is None
