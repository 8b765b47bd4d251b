"""Reconfigure: a new secret for the same URL, or a new webhook URL; devices and states survive."""

from collections.abc import Iterator
from http import HTTPStatus
import sys
from types import ModuleType, SimpleNamespace
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant import components
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.wildix.const import DOMAIN

from .calls import INBOUND_TALKING_LIVE
from .common import SECRET, WEBHOOK_ID, WildixSender, entry_data, user_entity

NEW_SECRET = "Pp7Rr1Tt5Vv9Xx3Zz8Bb2Dd6Ff0Hh4"
EXTERNAL = "https://example.duckdns.org"
OLD_HOOK = "https://hooks.nabu.casa/old-hook"
NEW_HOOK = "https://hooks.nabu.casa/new-hook"


@pytest.fixture(autouse=True)
def external_url(hass: HomeAssistant) -> None:
    """Give Home Assistant an external URL."""
    hass.config.external_url = EXTERNAL


class CloudNotAvailable(Exception):
    """Home Assistant Cloud is not available."""


class CloudNotConnected(CloudNotAvailable):
    """Home Assistant Cloud is not connected."""


@pytest.fixture
def mock_cloud(hass: HomeAssistant) -> Iterator[SimpleNamespace]:
    """Stand in for an active, connected Home Assistant Cloud: its public functions only.

    The real component cannot be imported without its many requirements.
    """
    hass.config.components.add("cloud")
    fake = ModuleType("homeassistant.components.cloud")
    fake.CloudNotAvailable = CloudNotAvailable
    fake.CloudNotConnected = CloudNotConnected
    fake.async_active_subscription = MagicMock(return_value=True)
    fake.async_is_connected = MagicMock(return_value=True)
    fake.async_create_cloudhook = AsyncMock(return_value=NEW_HOOK)
    fake.async_get_or_create_cloudhook = AsyncMock(return_value=OLD_HOOK)
    fake.async_delete_cloudhook = AsyncMock()
    with (
        patch.dict(sys.modules, {fake.__name__: fake}),
        patch.object(components, "cloud", fake, create=True),
    ):
        yield SimpleNamespace(
            create=fake.async_create_cloudhook,
            get=fake.async_get_or_create_cloudhook,
            delete=fake.async_delete_cloudhook,
            connected=fake.async_is_connected,
            subscribed=fake.async_active_subscription,
        )


async def _choose(hass: HomeAssistant, entry: MockConfigEntry, option: str) -> dict:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "reconfigure_secret",
        "reconfigure_webhook",
        "reconfigure_pbx_api",
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": option}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == option
    return result


async def _talking(wildix: WildixSender) -> str:
    """Put user 201 in a call; return the phone entity."""
    await wildix.post_all(*INBOUND_TALKING_LIVE)
    phone = user_entity(wildix.hass, "sensor", "201", "phone")
    assert wildix.hass.states.get(phone).state == "talking"
    return phone


async def test_new_secret_keeps_url_and_applies_live(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """A new secret keeps the URL, applies without a reload, and the old secret stops working."""
    phone = await _talking(wildix)
    entry = setup_integration
    hub = entry.runtime_data

    result = await _choose(hass, entry, "reconfigure_secret")
    url = f"{EXTERNAL}/api/webhook/{WEBHOOK_ID}"
    assert result["description_placeholders"] == {"webhook_url": url}
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": NEW_SECRET}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert result["description_placeholders"] == {"webhook_url": url}
    assert entry.data == entry_data(secret=NEW_SECRET)
    assert entry.runtime_data is hub
    assert hass.states.get(phone).state == "talking"

    await wildix.post("call_live_completed_inbound", expect=HTTPStatus.UNAUTHORIZED)
    wildix.secret = NEW_SECRET
    await wildix.post("call_live_completed_inbound")
    assert hass.states.get(phone).state == "idle"


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("", "secret_required"),
        ("two words", "invalid_secret"),
        ("OTHER", "secret_in_use"),
    ],
)
async def test_new_secret_errors(
    hass: HomeAssistant, setup_integration: MockConfigEntry, secret: str, error: str
) -> None:
    """Empty, spaced, or another entry's secrets are refused; the form is shown again."""
    MockConfigEntry(
        domain=DOMAIN, data=entry_data(webhook_id="b" * 64, secret="OTHER")
    ).add_to_hass(hass)
    result = await _choose(hass, setup_integration, "reconfigure_secret")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": secret}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"secret": error}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET}
    )
    assert result["type"] is FlowResultType.ABORT
    assert setup_integration.data == entry_data()


async def test_new_url_replaces_webhook_and_keeps_devices(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """A new URL works at once, the old one stops, and devices, entities and states survive."""
    phone = await _talking(wildix)
    entry = setup_integration
    devices = {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    }
    entities = {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }

    result = await _choose(hass, entry, "reconfigure_webhook")
    new_url = result["description_placeholders"]["webhook_url"]
    new_id = new_url.rsplit("/", 1)[1]
    assert new_url == f"{EXTERNAL}/api/webhook/{new_id}"
    assert new_id != WEBHOOK_ID
    assert len(new_id) == 64

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": NEW_SECRET}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert result["description_placeholders"] == {"webhook_url": new_url}
    assert entry.data == entry_data(webhook_id=new_id, secret=NEW_SECRET)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(phone).state == "talking"
    assert {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    } == devices
    assert {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    } == entities

    raw = async_capture_events(hass, "wildix_webhook")
    wildix.secret = NEW_SECRET
    await wildix.post("call_live_completed_inbound")
    assert raw == []
    assert hass.states.get(phone).state == "talking"

    wildix.webhook_id = new_id
    await wildix.post("call_live_completed_inbound")
    assert len(raw) == 1
    assert hass.states.get(phone).state == "idle"


async def test_new_cloudhook_replaces_old_one(
    hass: HomeAssistant, mock_cloud: SimpleNamespace
) -> None:
    """An entry on a cloudhook gets a new cloudhook, and the old one is deleted."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)

    result = await _choose(hass, entry, "reconfigure_webhook")
    assert result["description_placeholders"] == {"webhook_url": NEW_HOOK}
    new_id = mock_cloud.create.await_args.args[1]
    mock_cloud.delete.assert_not_awaited()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": NEW_SECRET}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert result["description_placeholders"] == {"webhook_url": NEW_HOOK}
    assert entry.data == entry_data(
        webhook_id=new_id, secret=NEW_SECRET, cloudhook=True
    )
    mock_cloud.delete.assert_awaited_once_with(hass, WEBHOOK_ID)


async def test_new_secret_shows_existing_cloudhook(
    hass: HomeAssistant, mock_cloud: SimpleNamespace
) -> None:
    """A cloudhook entry's secret form shows its cloudhook URL and creates none."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)

    result = await _choose(hass, entry, "reconfigure_secret")
    assert result["description_placeholders"] == {"webhook_url": OLD_HOOK}
    mock_cloud.get.assert_awaited_once_with(hass, WEBHOOK_ID)
    mock_cloud.create.assert_not_awaited()


async def test_cloud_given_up_moves_to_the_external_url(
    hass: HomeAssistant, mock_cloud: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a subscription the new URL is the external one; a lost cloud is logged."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)
    mock_cloud.subscribed.return_value = False
    mock_cloud.delete.side_effect = CloudNotAvailable

    result = await _choose(hass, entry, "reconfigure_webhook")
    new_url = result["description_placeholders"]["webhook_url"]
    assert new_url.startswith(f"{EXTERNAL}/api/webhook/")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": NEW_SECRET}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(
        webhook_id=new_url.rsplit("/", 1)[1], secret=NEW_SECRET, cloudhook=False
    )
    mock_cloud.create.assert_not_awaited()
    mock_cloud.delete.assert_awaited_once_with(hass, WEBHOOK_ID)
    assert "Home Assistant Cloud is not available" in caplog.text


async def test_cloud_removed_moves_to_the_external_url(hass: HomeAssistant) -> None:
    """Once the cloud component is gone, a cloudhook entry moves to the external URL."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)
    result = await _choose(hass, entry, "reconfigure_webhook")
    new_url = result["description_placeholders"]["webhook_url"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": NEW_SECRET}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["cloudhook"] is False
    assert new_url == f"{EXTERNAL}/api/webhook/{entry.data['webhook_id']}"


async def test_abandoned_new_url_deletes_its_cloudhook(
    hass: HomeAssistant, mock_cloud: SimpleNamespace
) -> None:
    """A cloudhook made for a new URL that was never saved is deleted again."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)
    result = await _choose(hass, entry, "reconfigure_webhook")
    new_id = mock_cloud.create.await_args.args[1]

    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    mock_cloud.delete.assert_awaited_once_with(hass, new_id)
    assert entry.data == entry_data(cloudhook=True)


@pytest.mark.parametrize("option", ["reconfigure_secret", "reconfigure_webhook"])
async def test_cloud_not_connected(
    hass: HomeAssistant, mock_cloud: SimpleNamespace, option: str
) -> None:
    """Without a connected cloud, neither the cloudhook nor a new one can be had."""
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data(cloudhook=True))
    entry.add_to_hass(hass)
    mock_cloud.get.side_effect = CloudNotConnected
    mock_cloud.connected.return_value = False
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": option}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cloud_not_connected"
    assert entry.data == entry_data(cloudhook=True)


async def test_internal_url_is_flagged(hass: HomeAssistant) -> None:
    """Without an external URL the form warns that Wildix cannot reach the URL."""
    hass.config.external_url = None
    hass.config.internal_url = "http://192.168.1.10:8123"
    entry = MockConfigEntry(domain=DOMAIN, data=entry_data())
    entry.add_to_hass(hass)
    result = await _choose(hass, entry, "reconfigure_secret")
    assert result["errors"] == {"base": "url_not_public"}
    assert result["description_placeholders"] == {
        "webhook_url": f"http://192.168.1.10:8123/api/webhook/{WEBHOOK_ID}"
    }
