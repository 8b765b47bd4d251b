"""PBX API: voicemail (`/api/v1/VoiceMail`): the list, the read flag, deletes.

Weakly documented (PBX-API-HISTORY.md §2): the list route exists (M: n8n live test
with an admin token, read as `result.records`, no query parameters); marking read is
`PUT /api/v1/VoiceMail/{id}` with an empty body and deleting `DELETE
/api/v1/VoiceMail/{ids}/` (L: one untested client). No source shows a record, so
every field is read under each name a Wildix or Asterisk mailbox could use, and a
record without an id or a mailbox is skipped (reported as a deviation).

Both writes go through the transport's `_write`: any 2xx without the error envelope is
success (an empty body, `"Success"`, `{}`, the envelope); anything else fails (issue 20).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from .pbx_transport import (
    MAX_RECORDS,
    PbxTransport,
    flag_field,
    int_field,
    path_segment,
    text_field,
)

ROUTE_VOICEMAILS = "/api/v1/VoiceMail"  # M (exists) / L (shape)
ROUTE_VOICEMAIL = "/api/v1/VoiceMail/{id}"  # L: PUT, empty body: mark read
ROUTE_DELETE_VOICEMAILS = "/api/v1/VoiceMail/{ids}/"  # L: ids comma-separated

_ID_KEYS = ("id", "msgId", "messageId", "msg_id")
_MAILBOX_KEYS = ("extension", "mailbox", "user", "owner", "userExtension")
_TIME_KEYS = ("time", "origtime", "date", "start", "created", "startTime")
_CALLER_KEYS = ("caller", "callerid", "callerNumber", "from", "src", "number")
_NAME_KEYS = ("callerName", "name", "fromName")
_DURATION_KEYS = ("duration", "length", "seconds")
_URL_KEYS = ("url", "file", "fileUrl", "link", "path")
_READ_KEYS = ("read", "isRead", "seen", "listened")
_UNREAD_KEYS = ("unread", "new", "isNew")
# Asterisk keeps unread messages in INBOX and moves read ones to Old (inference, §2).
_FOLDER_KEYS = ("folder", "dir", "box")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class PbxVoicemailRecord:
    """One voicemail as the PBX lists it; `read` is None when the PBX gave no flag."""

    id: str
    extension: str
    time_ms: int | None
    caller: str | None
    caller_name: str | None
    duration: float | None
    url: str | None
    read: bool | None
    # The time came as text: PBX-local perhaps (no source says), read as UTC.
    time_zone_free: bool = False


def _first(record: dict[str, object], keys: tuple[str, ...]) -> object:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _time_ms(value: object) -> int | None:
    """Return epoch ms of a time given in seconds, milliseconds or as UTC text."""
    number = int_field(value)
    if number is not None:
        return number if number > 100_000_000_000 else number * 1000
    text = text_field(value)
    if text is None:
        return None
    for fmt in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text[:19], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp() * 1000)
    return None


def _read(record: dict[str, object]) -> bool | None:
    if (value := _first(record, _READ_KEYS)) is not None:
        return flag_field(value)
    if (value := _first(record, _UNREAD_KEYS)) is not None:
        return not flag_field(value)
    folder = text_field(_first(record, _FOLDER_KEYS))
    if folder is not None:
        return folder.lower() != "inbox"
    return None


class PbxVoicemail(PbxTransport):
    """The voicemail list, its read flag, and deletes."""

    async def async_get_voicemails(self) -> list[PbxVoicemailRecord]:
        """Return the voicemails the credential may see (per user or PBX-wide)."""
        result = await self._result("GET", ROUTE_VOICEMAILS)
        records, _ = self._records(ROUTE_VOICEMAILS, result)
        found: list[PbxVoicemailRecord] = []
        for raw in records[:MAX_RECORDS]:
            if not isinstance(raw, dict):
                continue
            message_id = text_field(_first(raw, _ID_KEYS), 128)
            extension = text_field(_first(raw, _MAILBOX_KEYS), 32)
            if message_id is None or extension is None:
                self._deviation(ROUTE_VOICEMAILS, "a voicemail without id or mailbox")
                continue
            duration = int_field(_first(raw, _DURATION_KEYS))
            url = _first(raw, _URL_KEYS)
            time = _first(raw, _TIME_KEYS)
            found.append(
                PbxVoicemailRecord(
                    id=message_id,
                    extension=extension.split("@")[0],
                    time_ms=_time_ms(time),
                    caller=text_field(_first(raw, _CALLER_KEYS)),
                    caller_name=text_field(_first(raw, _NAME_KEYS)),
                    duration=None if duration is None else float(duration),
                    url=url if isinstance(url, str) and len(url) <= 2048 else None,
                    read=_read(raw),
                    time_zone_free=int_field(time) is None and time is not None,
                )
            )
        return found

    async def async_mark_voicemail_read(self, message_id: str) -> None:
        """Mark one voicemail read (`PUT /api/v1/VoiceMail/{id}`, empty body) (L)."""
        path = ROUTE_VOICEMAIL.format(id=path_segment(message_id, "voicemail id"))
        await self._write("PUT", path)

    async def async_delete_voicemails(self, message_ids: list[str]) -> None:
        """Delete voicemails (`DELETE /api/v1/VoiceMail/{ids}/`) (L)."""
        ids = ",".join(path_segment(item, "voicemail id") for item in message_ids)
        await self._write("DELETE", ROUTE_DELETE_VOICEMAILS.format(ids=ids))
