"""Every kind of credential against the fake PBX's profiles, through the real config flow.

Each feature of the PBX API stands alone: the entry learns after setup which ones the
credential may use, and a refused, missing or unreadable one turns off alone with a
log line and a `missing_permission` repair issue. Only a 401 on `personal/info` asks
for a new token.
"""

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wildix import coordinator
from custom_components.wildix.const import DOMAIN
from custom_components.wildix.diagnostics import async_get_config_entry_diagnostics

from .common import SECRET
from .fake_pbx import COMPANY_KEY, FakePbx
from .test_pbx_api import device_names, later

pytestmark = pytest.mark.usefixtures("socket_enabled")

FEATURES = (
    "directory",
    "registrations",
    "version",
    "switches",
    "presence_own",
    "presence_others",
    "call_control_own",
    "call_control_others",
    "voicemail",
    "call_history",
    "contacts",
)
# What each profile's credential may use, feature by feature (✔/✘), in FEATURES order.
ADMIN = "✔✔✔✔✔✔✔✔✔✔✔"
EXPECTED = {
    "admin": ADMIN,
    # A user's token reads its own user's call history (/User/{ext}/CallHistory/).
    "user": "✔✘✘✘✔✘✔✘✘✔✔",
    "legacy": "✔✔✔✔✔✔✔✘✔✔✔",
    # A key with the directory, presence and call-control scopes only.
    "company_key": "✔✘✘✔✔✔✔✔✘✘✘",
}
KEY_SCOPES = frozenset({"colleagues:read", "presence:*", "callcontrol:*", "dialplan:*"})


@pytest.fixture(autouse=True)
async def webhook_component(hass: HomeAssistant) -> None:
    """Load the webhook component and give Home Assistant an external URL."""
    assert await async_setup_component(hass, "webhook", {})
    hass.config.external_url = "https://example.duckdns.org"


@pytest.fixture(params=list(EXPECTED))
async def office(request: pytest.FixtureRequest) -> AsyncIterator[FakePbx]:
    """Serve the fake PBX with one profile (every profile in turn)."""
    with patch.object(coordinator, "API_TIMEOUT", 0.5):
        async with FakePbx(profile=request.param, scopes=KEY_SCOPES) as fake:
            yield fake


async def connect(hass: HomeAssistant, pbx: FakePbx) -> tuple[str, ConfigEntry]:
    """Add an entry through the flow; return the capability table shown, and the entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "secret": SECRET,
            "pbx_api": {"url": pbx.url, "token": pbx.token, "verify_ssl": True},
        },
    )
    assert result["type"] is FlowResultType.FORM, result.get("errors")
    assert result["step_id"] == "pbx_capabilities"
    table = result["description_placeholders"]["table"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return table, entry


def marks(table: str) -> str:
    """Return the ✔/✘ column of a capability table as the flow shows it."""
    rows = dict(line.removeprefix("- ").split(": ", 1) for line in table.splitlines())
    assert list(rows) == list(FEATURES)
    return "".join(rows[feature][0] for feature in FEATURES)


def entity(hass: HomeAssistant, entry: ConfigEntry, platform: str, key: str) -> Any:
    """Return the entity id of an entry's entity by its unique id's tail, or None."""
    return er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.entry_id}_{key}"
    )


def repairs(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, dict[str, str]]:
    """Return the entry's missing_permission issues: feature -> placeholders."""
    found = {}
    for (domain, _), issue in ir.async_get(hass).issues.items():
        if domain == DOMAIN and issue.translation_key == "missing_permission":
            assert issue.data == {"entry_id": entry.entry_id}
            placeholders = issue.translation_placeholders or {}
            found[placeholders["feature"]] = placeholders
    return found


def user_device(hass: HomeAssistant, entry: ConfigEntry, extension: str) -> str:
    """Return the device id of a PBX user."""
    identifier = (DOMAIN, f"{entry.entry_id}_{extension}")
    registry = dr.async_get(hass)
    for found in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if identifier in found.identifiers:
            return found.id
    raise AssertionError(f"no device {identifier}")


async def test_each_token_kind_gets_its_features_alone(
    hass: HomeAssistant, office: FakePbx, caplog: pytest.LogCaptureFixture
) -> None:
    """The flow's last step shows the table; off features have a repair, the rest work."""
    table, entry = await connect(hass, office)
    expected = EXPECTED[office.profile]

    assert marks(table) == expected
    # Every profile reads the directory (a user through /api/v1/Colleagues/).
    assert device_names(hass, entry) == {
        "201": "Alice Martin",
        "202": "Bruno Keller",
        "203": "Chiara Rossi",
        "204": "Reception",
    }
    # No profile asks for a new token: the PBX accepts each one on personal/info.
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    off = {f for f, mark in zip(FEATURES, expected, strict=True) if mark == "✘"}
    issues = repairs(hass, entry)
    assert set(issues) == off
    for feature in off:
        assert caplog.text.count(f"the PBX API feature {feature} is off") == 1
        assert issues[feature]["needs"]
    # Entities exist for the features that are on, only.
    assert (entity(hass, entry, "binary_sensor", "201_registered") is None) == (
        "registrations" in off
    )
    assert (entity(hass, entry, "sensor", "pbx_version") is None) == ("version" in off)
    assert (entity(hass, entry, "switch", "switch_1") is None) == ("switches" in off)
    assert entity(hass, entry, "switch", "201_dnd") is not None
    # A user's token: no DND switch for other users.
    assert (entity(hass, entry, "switch", "202_dnd") is None) == (
        "presence_others" in off
    )
    # Diagnostics show the same table, and never the token.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    rows = diagnostics["pbx_api"]["capabilities"]
    assert "".join(row["usable"] for row in rows) == expected
    assert office.token not in repr(diagnostics)


async def test_actions_follow_the_capabilities(
    hass: HomeAssistant, office: FakePbx
) -> None:
    """Own presence and click-to-call work for every kind; others' only where allowed."""
    _, entry = await connect(hass, office)
    expected = dict(zip(FEATURES, EXPECTED[office.profile], strict=True))
    office.scopes.add("originate:*")

    await hass.services.async_call(
        DOMAIN,
        "set_presence",
        {"device_id": user_device(hass, entry, "201"), "status": "away"},
        blocking=True,
    )
    assert office.users["201"].presence == "away"
    await hass.services.async_call(
        DOMAIN,
        "call",
        {"device_id": user_device(hass, entry, "201"), "number": "203"},
        blocking=True,
    )
    assert [call.callee_number for call in office.calls["201"]] == ["203"]

    for action, data, feature in (
        ("set_presence", {"status": "dnd"}, "presence_others"),
        ("call", {"number": "204"}, "call_control_others"),
    ):
        asked = len(office.requests)
        service_data = {"device_id": user_device(hass, entry, "202"), **data}
        if expected[feature] == "✔":
            await hass.services.async_call(DOMAIN, action, service_data, blocking=True)
            continue
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, action, service_data, blocking=True)
        assert raised.value.translation_key == "missing_permission"
        assert raised.value.translation_placeholders["feature"] == feature
        # Known off: the PBX is not asked.
        assert len(office.requests) == asked
    assert (office.users["202"].presence == "dnd") == (
        expected["presence_others"] == "✔"
    )


@pytest.mark.parametrize("status", [401, 403])
async def test_a_key_refused_on_a_route_turns_only_that_feature_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, status: int
) -> None:
    """A key without a scope (401 or 403 on the route) loses that feature, no reauth."""
    with patch.object(coordinator, "API_TIMEOUT", 0.5):
        async with FakePbx(profile="company_key", scopes=KEY_SCOPES) as pbx:
            pbx.scope_refusal = status
            table, entry = await connect(hass, pbx)
            assert marks(table) == EXPECTED["company_key"]
            assert f"refused (HTTP {status})" in table
            # A write refused for lack of its scope turns its feature off alone.
            with pytest.raises(HomeAssistantError) as raised:
                await hass.services.async_call(
                    DOMAIN,
                    "call",
                    {"device_id": user_device(hass, entry, "201"), "number": "203"},
                    blocking=True,
                )
            assert raised.value.translation_key == "missing_permission"
            assert repairs(hass, entry)["call_control_own"]["needs"] == "originate:*"
            await later(hass, freezer, 3600)
            assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            assert entry.state is ConfigEntryState.LOADED
            assert set(repairs(hass, entry)) == {
                "registrations",
                "version",
                "call_control_own",
                "voicemail",
                "call_history",
                "contacts",
            }


async def test_only_a_refused_token_asks_for_a_new_one_which_ends_the_repairs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """401 on personal/info: reauth; a token the PBX accepts reloads and ends repairs."""
    with patch.object(coordinator, "API_TIMEOUT", 0.5):
        async with FakePbx(profile="user") as pbx:
            _, entry = await connect(hass, pbx)
            assert "switches" in repairs(hass, entry)
            # The PBX stops accepting the user's token; an admin's replaces it.
            pbx.token = "access_admin0123456789"
            pbx.profile, pbx.admin = "admin", True
            await later(hass, freezer, 601)

            flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
            result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
            assert result["step_id"] == "reauth_pbx_api"
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"token": pbx.token}
            )
            assert result["reason"] == "reauth_pbx_api_successful"
            await hass.async_block_till_done(wait_background_tasks=True)

            assert entry.state is ConfigEntryState.LOADED
            assert repairs(hass, entry) == {}
            assert entity(hass, entry, "switch", "switch_1") is not None
            assert entity(hass, entry, "switch", "202_dnd") is not None


@pytest.mark.parametrize(
    ("shape", "shown"),
    [
        ("object", "7.09.20260515.1"),
        ("string", "7.09.20260515.1"),
        ("build", "7.09.20260515.1"),
        ("null", STATE_UNAVAILABLE),
    ],
)
async def test_every_version_shape_shows_what_it_can(
    hass: HomeAssistant, pbx: FakePbx, shape: str, shown: str
) -> None:
    """A version as text, `{version}`, `{build}` or null: shown, or unavailable."""
    pbx.version_shape = shape
    _, entry = await connect(hass, pbx)
    entity_id = entity(hass, entry, "sensor", "pbx_version")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == shown
    assert len(device_names(hass, entry)) == 4


async def test_the_version_never_affects_the_directory(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """An HTML version answer: the version is unavailable, the directory goes on."""
    _, entry = await connect(hass, pbx)
    pbx.version_shape = "html"
    pbx.add_user("205", "Dora Weber")

    await later(hass, freezer, 601)

    assert device_names(hass, entry)["205"] == "Dora Weber"
    assert set(device_names(hass, entry)) == {"201", "202", "203", "204", "205"}
    entity_id = entity(hass, entry, "sensor", "pbx_version")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


async def test_an_unreadable_version_at_setup_turns_only_the_version_off(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """HTML from the version route at setup: version off (repair), directory on."""
    pbx.version_shape = "html"
    table, entry = await connect(hass, pbx)
    assert "- version: ✘ unreadable answer" in table
    assert set(repairs(hass, entry)) == {"version"}
    assert len(device_names(hass, entry)) == 4


async def test_company_key_token_is_never_shown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A Company API key is the entry's token; diagnostics redact it."""
    async with FakePbx(profile="company_key", scopes=frozenset({"pbx:*"})) as pbx:
        _, entry = await connect(hass, pbx)
        assert entry.data["api_token"] == COMPANY_KEY
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        assert COMPANY_KEY not in repr(diagnostics)
        assert repairs(hass, entry) == {}
