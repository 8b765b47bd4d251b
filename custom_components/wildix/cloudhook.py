"""Home Assistant Cloud webhooks (cloudhooks): the URL Wildix posts to via Nabu Casa."""

import logging

from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)


class CloudNotConnectedError(Exception):
    """Home Assistant Cloud is subscribed but not connected."""


async def async_create_cloudhook(hass: HomeAssistant, webhook_id: str) -> str | None:
    """Return a cloudhook URL when Home Assistant Cloud is subscribed, else None."""
    if "cloud" not in hass.config.components:
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    if not cloud.async_active_subscription(hass):
        return None
    if not cloud.async_is_connected(hass):
        raise CloudNotConnectedError
    url: str = await cloud.async_create_cloudhook(hass, webhook_id)
    return url


async def async_get_cloudhook(hass: HomeAssistant, webhook_id: str) -> str:
    """Return the URL of an existing cloudhook."""
    from homeassistant.components import cloud  # noqa: PLC0415

    try:
        url: str = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable as err:
        raise CloudNotConnectedError from err
    return url


async def async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    """Delete a cloudhook; a cloud that is gone is logged, not raised."""
    if "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud  # noqa: PLC0415

    try:
        await cloud.async_delete_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable:
        _LOGGER.warning(
            "Could not delete a cloudhook: Home Assistant Cloud is not available"
        )
