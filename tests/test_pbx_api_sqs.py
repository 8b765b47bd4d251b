"""The PBX API connection of an SQS entry: entered on the first form, reauthenticated apart."""

from collections.abc import AsyncIterator

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wildix.const import DOMAIN

from .fake_pbx import FakePbx
from .moto_sqs import MotoSqs, sqs_data


@pytest.fixture(autouse=True)
async def components(hass: HomeAssistant, moto: MotoSqs) -> AsyncIterator[None]:
    """Load the webhook component; unload created entries while the servers run."""
    assert await async_setup_component(hass, "webhook", {})
    hass.config.external_url = "https://example.duckdns.org"
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)


async def test_sqs_entry_with_a_connection(
    hass: HomeAssistant, pbx: FakePbx, queue_url: str
) -> None:
    """The first form's connection is checked and saved for an SQS entry too."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"transport": "sqs", "pbx_api": {"url": pbx.url, "token": "access_wrong"}},
    )
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"transport": "sqs", "pbx_api": {"url": pbx.url, "token": pbx.token}},
    )
    assert result["step_id"] == "sqs"
    data = sqs_data(queue_url)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {key: data[key] for key in data if key != "transport"}
    )
    # The last step shows what the connection can do.
    assert result["step_id"] == "pbx_capabilities"
    assert "- directory: ✔" in result["description_placeholders"]["table"]
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == data | {
        "pbx_url": pbx.url,
        "api_token": pbx.token,
        "verify_ssl": True,
    }
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = result["result"]
    names = {
        device.name
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
    }
    assert {"Alice Martin", "Reception"} <= names


@pytest.mark.parametrize(
    ("token_works", "step"), [(False, "reauth_pbx_api"), (True, "reauth_confirm")]
)
async def test_reauth_of_an_sqs_entry_asks_for_what_was_refused(
    hass: HomeAssistant,
    pbx: FakePbx,
    queue_url: str,
    token_works: bool,
    step: str,
) -> None:
    """The PBX's token when the PBX refuses it, else AWS's keys."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=queue_url,
        data=sqs_data(queue_url)
        | {
            "pbx_url": pbx.url,
            "api_token": pbx.token if token_works else "access_old",
            "verify_ssl": True,
        },
    )
    entry.add_to_hass(hass)

    result = await entry.start_reauth_flow(hass)

    assert result["step_id"] == step
