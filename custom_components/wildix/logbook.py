"""Describe the moments of calls (`wildix_event`) in the logbook."""

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_CALL
from .model import MomentType
from .protocol import Direction

# Said of the other party when Wildix did not name it or privacy hides it.
_UNNAMED: dict[str, str] = {
    Direction.INBOUND: "an outside caller",
    Direction.OUTBOUND: "an outside number",
    Direction.INTERNAL: "a colleague",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe call moments in the logbook."""

    @callback
    def async_describe_call_event(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: _user_name(hass, data),
            LOGBOOK_ENTRY_MESSAGE: _describe(data),
        }

    async_describe_event(DOMAIN, EVENT_CALL, async_describe_call_event)


def _describe(data: Mapping[str, Any]) -> str:
    """Return what happened, said after the user's name."""
    remote = _remote(data)
    match data.get("type"):
        case MomentType.INCOMING_CALL:
            return f"incoming call from {remote}"
        case MomentType.OUTGOING_CALL:
            return f"outgoing call to {remote}"
        case MomentType.CALL_ANSWERED if data.get("direction") == Direction.OUTBOUND:
            return f"call to {remote} answered"
        case MomentType.CALL_ANSWERED:
            return f"answered the call with {remote}"
        case MomentType.MISSED_CALL:
            return f"missed a call from {remote}"
        case MomentType.CALL_ENDED if data.get("missed"):
            return f"call with {remote} ended unanswered"
        case MomentType.CALL_ENDED if (duration := data.get("duration")) is not None:
            return f"call with {remote} ended ({_duration(duration)})"
        case MomentType.CALL_ENDED:
            return f"call with {remote} ended"
        case MomentType.VOICEMAIL:
            return f"got a voicemail from {remote}"
    return f"call event {data.get('type')} with {remote}"


def _duration(seconds: float) -> str:
    """Return a length of time like "1 h 2 min 3 s", in whole seconds."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{value} {unit}" for value, unit in ((hours, "h"), (minutes, "min")) if value
    ]
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def _remote(data: Mapping[str, Any]) -> str:
    number = data.get("remote_number")
    name = data.get("remote_name")
    if number and name:
        return f"{name} ({number})"
    if number or name:
        return str(number or name)
    return _UNNAMED.get(str(data.get("direction")), "an outside party")


def _user_name(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    device_id = data.get("device_id")
    device = None if device_id is None else dr.async_get(hass).async_get(device_id)
    if device is not None and (name := device.name_by_user or device.name):
        return name
    if extension := data.get("extension"):
        return f"Extension {extension}"
    return "Wildix"
