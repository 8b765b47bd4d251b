"""The config flow: webhook URL shown, secret taken, entry created."""

import sys
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, Mock, patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
import pytest

from custom_components.wildix.const import DOMAIN

from .common import SECRET


@pytest.fixture(autouse=True)
async def webhook_component(hass: HomeAssistant) -> None:
    """Load the webhook component and give Home Assistant an external URL."""
    assert await async_setup_component(hass, "webhook", {})
    hass.config.external_url = "https://example.duckdns.org"


async def test_user_flow_shows_url_and_creates_entry(hass: HomeAssistant) -> None:
    """The form shows the external webhook URL; the secret alone creates the entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    url = result["description_placeholders"]["webhook_url"]
    assert url.startswith("https://example.duckdns.org/api/webhook/")
    webhook_id = url.rsplit("/", 1)[1]
    assert len(webhook_id) == 64
    int(webhook_id, 16)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Wildix"
    assert result["data"] == {
        "transport": "webhook",
        "webhook_id": webhook_id,
        "secret": SECRET,
        "cloudhook": False,
    }


async def test_name_becomes_the_title(hass: HomeAssistant) -> None:
    """An optional name titles the entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET, "name": "Head office"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Head office"


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("", "secret_required"),
        ("  ", "invalid_secret"),
        ("abc def", "invalid_secret"),
        ("abc\tdef", "invalid_secret"),
    ],
)
async def test_bad_secret_is_a_form_error(
    hass: HomeAssistant, secret: str, error: str
) -> None:
    """Empty or whitespace-containing secrets are refused on the form, then fixed."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    url = result["description_placeholders"]["webhook_url"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": secret}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"secret": error}
    assert result["description_placeholders"]["webhook_url"] == url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["webhook_id"] == url.rsplit("/", 1)[1]


async def test_same_secret_twice_aborts(hass: HomeAssistant) -> None:
    """The same Wildix integration cannot be added twice."""
    for expected in (FlowResultType.CREATE_ENTRY, FlowResultType.ABORT):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "user"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"secret": SECRET}
        )
        assert result["type"] is expected
    assert result["reason"] == "already_configured"


async def test_several_entries_get_their_own_webhooks(hass: HomeAssistant) -> None:
    """Several PBXs or Wildix integrations each get a webhook of their own."""
    for secret in (SECRET, SECRET[::-1]):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "user"}
        )
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"secret": secret}
        )
    entries = hass.config_entries.async_entries(DOMAIN)
    assert len({entry.data["webhook_id"] for entry in entries}) == 2


async def test_internal_url_only_warns(hass: HomeAssistant) -> None:
    """Without an external URL the internal one is shown with a warning."""
    hass.config.external_url = None
    hass.config.internal_url = "http://192.168.1.10:8123"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    assert result["errors"] == {"base": "url_not_public"}
    url = result["description_placeholders"]["webhook_url"]
    assert url.startswith("http://192.168.1.10:8123/api/webhook/")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_url_at_all_shows_the_path(hass: HomeAssistant) -> None:
    """With no URL configured at all, the path is shown with the warning."""
    hass.config.external_url = None
    hass.config.internal_url = None
    with patch(
        "homeassistant.helpers.network._get_internal_url",
        side_effect=NoURLAvailableError,
    ):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "user"}
        )
    assert result["errors"] == {"base": "url_not_public"}
    assert result["description_placeholders"]["webhook_url"].startswith("/api/webhook/")


@pytest.fixture
def cloud() -> Any:
    """Give Home Assistant an active, connected Home Assistant Cloud subscription.

    Only the cloud component's public cloudhook API is replaced: the real one
    needs an account with Nabu Casa.
    """
    fake = ModuleType("homeassistant.components.cloud")
    fake.CloudNotAvailable = type("CloudNotAvailable", (Exception,), {})  # type: ignore[attr-defined]
    fake.async_active_subscription = Mock(return_value=True)  # type: ignore[attr-defined]
    fake.async_is_connected = Mock(return_value=True)  # type: ignore[attr-defined]
    fake.async_create_cloudhook = AsyncMock(return_value="https://hooks.nabu.casa/ABCD")  # type: ignore[attr-defined]
    fake.async_delete_cloudhook = AsyncMock()  # type: ignore[attr-defined]
    with patch.dict(sys.modules, {"homeassistant.components.cloud": fake}):
        yield SimpleNamespace(
            connected=fake.async_is_connected,  # type: ignore[attr-defined]
            create=fake.async_create_cloudhook,  # type: ignore[attr-defined]
            delete=fake.async_delete_cloudhook,  # type: ignore[attr-defined]
        )


async def test_cloudhook_is_used_and_deleted_with_the_entry(
    hass: HomeAssistant, cloud: Any
) -> None:
    """With Home Assistant Cloud, Wildix gets a cloudhook, removed with the entry."""
    hass.config.components.add("cloud")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    assert (
        result["description_placeholders"]["webhook_url"]
        == "https://hooks.nabu.casa/ABCD"
    )
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"secret": SECRET}
    )
    assert result["data"]["cloudhook"] is True
    webhook_id = result["data"]["webhook_id"]
    cloud.create.assert_called_once_with(hass, webhook_id)
    entry = result["result"]
    await hass.async_block_till_done()
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    cloud.delete.assert_called_once_with(hass, webhook_id)


async def test_abandoned_flow_deletes_its_cloudhook(
    hass: HomeAssistant, cloud: Any
) -> None:
    """A cloudhook made for a flow the user leaves is not left behind."""
    hass.config.components.add("cloud")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    webhook_id = result["description_placeholders"]["webhook_url"]
    assert cloud.delete.call_count == 1
    assert cloud.create.call_args.args[1] == cloud.delete.call_args.args[1]
    assert webhook_id == "https://hooks.nabu.casa/ABCD"


async def test_choosing_sqs_deletes_the_cloudhook_of_the_first_form(
    hass: HomeAssistant, cloud: Any
) -> None:
    """An SQS entry keeps no webhook: the cloudhook shown on the first form goes at once."""
    hass.config.components.add("cloud")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"transport": "sqs"}
    )
    await hass.async_block_till_done()
    assert result["step_id"] == "sqs"
    cloud.delete.assert_called_once_with(hass, cloud.create.call_args.args[1])
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert cloud.delete.call_count == 1


async def test_cloud_not_connected_aborts(hass: HomeAssistant, cloud: Any) -> None:
    """A subscribed but disconnected cloud cannot make a cloudhook."""
    hass.config.components.add("cloud")
    cloud.connected.return_value = False
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cloud_not_connected"
    cloud.create.assert_not_called()
