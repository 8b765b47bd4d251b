"""The config flow's SQS branch and reauthentication, against a real SQS API (moto) on loopback."""

from collections.abc import AsyncGenerator, Callable
import sys
from types import ModuleType
from typing import Any
from unittest.mock import AsyncMock, Mock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wildix.const import DOMAIN

from .common import entity_id
from .moto_sqs import READ_PERMISSIONS, MotoSqs, WildixQueueSender, poll, sqs_data


@pytest.fixture(autouse=True)
async def components(hass: HomeAssistant, moto: MotoSqs) -> AsyncGenerator[None]:
    """Load the webhook component; unload created entries while the server runs."""
    assert await async_setup_component(hass, "webhook", {})
    hass.config.external_url = "https://example.duckdns.org"
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def keys(moto: MotoSqs) -> tuple[str, str]:
    """Make moto check keys; return a key allowed to read the queue."""
    moto.require_auth()
    return moto.create_key("homeassistant", READ_PERMISSIONS)


@pytest.fixture
def good(queue_url: str, keys: tuple[str, str]) -> dict[str, str]:
    """Return an SQS form that works."""
    return _form(queue_url, *keys)


async def _sqs_form(hass: HomeAssistant, **user_input: Any) -> dict[str, Any]:
    """Start a flow and choose SQS on the first form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"transport": "sqs", **user_input}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sqs"
    assert result["errors"] == {}
    return dict(result)


def _form(url: str, key_id: str, secret: str) -> dict[str, str]:
    return {"queue_url": url, "access_key_id": key_id, "secret_access_key": secret}


async def test_sqs_flow_checks_the_keys_and_creates_entry(
    hass: HomeAssistant,
    moto: MotoSqs,
    queue_url: str,
    keys: tuple[str, str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Queue URL and keys that work create an SQS entry that starts polling."""
    result = await _sqs_form(hass, name="Office PBX")
    key_id, secret = keys
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(f" {queue_url} ", f"{key_id} ", secret)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Office PBX"
    assert result["data"] == sqs_data(queue_url, key_id, secret)
    assert result["description_placeholders"] == {"queue": "wildix"}
    entry = result["result"]
    assert entry.unique_id == queue_url
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    sender = WildixQueueSender(hass, moto, freezer, queue_url, secret)
    await sender.send("presence_telephony_ringing")
    await poll(hass, freezer)
    phone = entity_id(hass, "sensor", f"{entry.entry_id}_201_phone")
    assert hass.states.get(phone).state == "ringing"


def _unknown_key(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    return form | {"access_key_id": "AKIAUNKNOWN"}


def _wrong_secret(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    return form | {"secret_access_key": "wrong"}


def _no_permission(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    key_id, secret = moto.create_key("wildix-only", ["sqs:SendMessage"])
    return form | {"access_key_id": key_id, "secret_access_key": secret}


def _missing_queue(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    return form | {"queue_url": form["queue_url"].replace("wildix", "missing")}


def _server_down(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    moto.stop()
    return form


def _aws_outage(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    moto.outage = True
    return form


def _not_a_queue_url(moto: MotoSqs, form: dict[str, str]) -> dict[str, str]:
    return form | {"queue_url": "https://sqs.eu-central-1.amazonaws.com/wildix"}


@pytest.mark.parametrize(
    ("spoil", "error"),
    [
        (_unknown_key, {"base": "invalid_auth"}),
        (_wrong_secret, {"base": "invalid_auth"}),
        (_no_permission, {"base": "invalid_auth"}),
        (_missing_queue, {"base": "queue_not_found"}),
        (_server_down, {"base": "cannot_connect"}),
        (_aws_outage, {"base": "cannot_connect"}),
        (_not_a_queue_url, {"queue_url": "invalid_queue_url"}),
    ],
)
async def test_sqs_flow_errors_then_recovers(
    hass: HomeAssistant,
    moto: MotoSqs,
    good: dict[str, str],
    spoil: Callable[[MotoSqs, dict[str, str]], dict[str, str]],
    error: dict[str, str],
) -> None:
    """Each problem has its own error; once fixed, the same flow creates the entry."""
    result = await _sqs_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], spoil(moto, good)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    if not moto.running:
        moto.start()
    moto.outage = False
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("sqs_entry")
async def test_sqs_flow_aborts_for_a_configured_queue(
    hass: HomeAssistant, queue_url: str
) -> None:
    """The same queue cannot be added twice."""
    result = await _sqs_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(queue_url, "AKIAOTHER", "other")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_sqs_flow_deletes_the_unused_cloudhook(
    hass: HomeAssistant, queue_url: str
) -> None:
    """The cloudhook made for the first form is deleted when the user picks SQS."""
    # Only the cloud component's cloudhook API is replaced: the real one needs Nabu Casa.
    cloud = ModuleType("homeassistant.components.cloud")
    cloud.async_active_subscription = Mock(return_value=True)  # type: ignore[attr-defined]
    cloud.async_is_connected = Mock(return_value=True)  # type: ignore[attr-defined]
    create = cloud.async_create_cloudhook = AsyncMock(  # type: ignore[attr-defined]
        return_value="https://hooks.nabu.casa/ABCD"
    )
    delete = cloud.async_delete_cloudhook = AsyncMock()  # type: ignore[attr-defined]
    hass.config.components.add("cloud")
    with patch.dict(sys.modules, {cloud.__name__: cloud}):
        result = await _sqs_form(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _form(queue_url, "AKIAEXAMPLE", "secret")
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "webhook_id" not in result["data"]
    delete.assert_awaited_once_with(hass, create.call_args.args[1])


async def test_reauth_takes_new_keys_and_reloads(
    hass: HomeAssistant, queue_url: str, keys: tuple[str, str]
) -> None:
    """Keys AWS refuses lead to a reauth form; working keys update the entry and reload it."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=queue_url, data=sqs_data(queue_url, "AKIAOLD", "old")
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["queue"] == "wildix"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_key_id": "AKIAOLD", "secret_access_key": "still old"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    key_id, secret = keys
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_key_id": key_id, "secret_access_key": secret}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == sqs_data(queue_url, key_id, secret)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


async def _reconfigure_sqs(
    hass: HomeAssistant, entry: MockConfigEntry
) -> ConfigFlowResult:
    """Start reconfiguring an SQS entry and choose its queue and keys in the menu."""
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "reconfigure_sqs"}
    )


async def test_reconfigure_moves_to_another_queue(
    hass: HomeAssistant,
    moto: MotoSqs,
    queue_url: str,
    keys: tuple[str, str],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A loaded entry can move to another queue; it reloads and polls the new one."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=queue_url, data=sqs_data(queue_url, *keys)
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    other = await hass.async_add_executor_job(moto.create_queue, "pbx-events")

    result = await _reconfigure_sqs(hass, entry)
    assert result["step_id"] == "reconfigure_sqs"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form("https://sqs.eu-central-1.amazonaws.com/x", *keys)
    )
    assert result["errors"] == {"queue_url": "invalid_queue_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(other, keys[0], "wrong")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(other, *keys)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_sqs_successful"
    assert entry.unique_id == other
    assert entry.data == sqs_data(other, *keys)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    sender = WildixQueueSender(hass, moto, freezer, other, keys[1])
    await sender.send("presence_telephony_ringing")
    await poll(hass, freezer)
    phone = entity_id(hass, "sensor", f"{entry.entry_id}_201_phone")
    assert hass.states.get(phone).state == "ringing"


async def test_reconfigure_keeps_the_queue_of_another_entry(
    hass: HomeAssistant, moto: MotoSqs, queue_url: str
) -> None:
    """Reconfigure cannot take a queue another entry polls; keeping its own queue is fine."""
    other = await hass.async_add_executor_job(moto.create_queue, "pbx-events")
    MockConfigEntry(domain=DOMAIN, unique_id=other, data=sqs_data(other)).add_to_hass(
        hass
    )
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=queue_url, data=sqs_data(queue_url)
    )
    entry.add_to_hass(hass)
    result = await _reconfigure_sqs(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(other, "AKIAEXAMPLE", "secret")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await _reconfigure_sqs(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(queue_url, "AKIANEW", "new")
    )
    assert result["reason"] == "reconfigure_sqs_successful"
    assert entry.data == sqs_data(queue_url, "AKIANEW", "new")
