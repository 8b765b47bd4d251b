"""The config flow: webhook URL shown, secret taken, entry created."""

from unittest.mock import patch

import pytest

from custom_components.wildix.const import DOMAIN
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component

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
    assert result["data"] == {"webhook_id": webhook_id, "secret": SECRET, "cloudhook": False}
