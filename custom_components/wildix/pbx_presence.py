"""PBX API: users' presence (`/api/v1/User/{ext}/Presence`, `/api/v1/Personal/Presence`)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from .pbx_transport import (
    MAX_TEXT,
    PbxNotWildixError,
    PbxTransport,
    path_segment,
    text_field,
)

ROUTE_USER_PRESENCE = "/api/v1/User/{extension}/Presence"  # M: canvacanva, n8n
ROUTE_OWN_PRESENCE = "/api/v1/Personal/Presence"  # M: n8n live (PUT only; GET is 404)

# The PBX's format of a presence's end, in UTC (M: canvacanva, n8n 1.1.0).
UNTIL_FORMAT = "%d/%m/%Y %H:%M"


class PresenceStatus(StrEnum):
    """Presence statuses the PBX accepts when setting one (M: canvacanva, n8n)."""

    AVAILABLE = "available"
    AWAY = "away"
    DND = "dnd"
    # "make up room": a hotel status (n8n's list); the PBX accepts it like the others.
    MUR = "mur"


@dataclass(frozen=True, slots=True)
class UserPresence:
    """A user's presence as the PBX reports it (`GET /api/v1/User/{ext}/Presence`)."""

    # `result.show`; an empty value means available (M: canvacanva).
    status: str
    message: str | None
    until: datetime | None


def format_until(until: datetime) -> str:
    """Return a presence's end in the PBX's format, in UTC; refuse a naive datetime."""
    if until.tzinfo is None:
        raise ValueError("until must carry a time zone")
    return until.astimezone(UTC).strftime(UNTIL_FORMAT)


def parse_until(value: object) -> datetime | None:
    """Return the UTC datetime of a presence's end in the PBX's format, or None."""
    text = text_field(value)
    if not text:
        return None
    try:
        return datetime.strptime(text, UNTIL_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


class PbxPresence(PbxTransport):
    """Reading and setting presence."""

    async def async_get_presence(self, extension: str) -> UserPresence:
        """Return a user's presence (`result.show`; empty means available) (M)."""
        path = ROUTE_USER_PRESENCE.format(
            extension=path_segment(extension, "extension")
        )
        result = await self._result("GET", path)
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{path}: result is not an object")
        return UserPresence(
            status=text_field(result.get("show"), 32) or PresenceStatus.AVAILABLE.value,
            message=text_field(result.get("message")),
            until=parse_until(result.get("until")),
        )

    async def async_set_presence(
        self,
        extension: str,
        status: PresenceStatus,
        message: str | None = None,
        until: datetime | None = None,
    ) -> None:
        """Set a user's presence: `PUT /api/v1/User/{ext}/Presence` (admin or API key).

        Body `{status, message, until?}`, `until` as "DD/MM/YYYY HH:mm" in UTC (M:
        canvacanva with admin Basic, n8n 1.1.0). The message is always sent, so that
        a new status does not keep an old message.
        """
        path = ROUTE_USER_PRESENCE.format(
            extension=path_segment(extension, "extension")
        )
        body: dict[str, str] = {
            "status": PresenceStatus(status).value,
            "message": (message or "")[:MAX_TEXT],
        }
        if until is not None:
            body["until"] = format_until(until)
        await self._write("PUT", path, json=body)

    async def async_set_own_presence(
        self, status: PresenceStatus, message: str | None = None
    ) -> None:
        """Set the token owner's presence: `PUT /api/v1/Personal/Presence` (M: n8n live)."""
        await self._write(
            "PUT",
            ROUTE_OWN_PRESENCE,
            json={
                "status": PresenceStatus(status).value,
                "message": (message or "")[:MAX_TEXT],
            },
        )
