"""PBX API: the call history (CDR) of the whole PBX, or of one user, for a window of time.

Shapes from the research notes on call history (PBX-API-HISTORY.md §1): every value
is a string, numbers included; times are PBX-local `YYYY-MM-DD HH:MM:SS` with the
offset in a separate `timezone` field (`+0100`, M), which may be missing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
import re

from .pbx_transport import PbxTransport, int_field, text_field

# H: official manual, n8n live test (admin token), 10x-media live.
ROUTE_PBX_HISTORY = "/api/v1/PBX/CallHistory/"
# M: an admin token live (n8n); one client reads it with each user's own token
# (10x-media). The one history a user's token can read: its own user's.
ROUTE_USER_HISTORY = "/api/v1/User/{extension}/CallHistory/"
# At most this many records per window: 50 pages of 100.
MAX_HISTORY_PAGES = 50
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The most two time zones differ (UTC-12 to UTC+14).
ZONE_SLACK = timedelta(hours=26)
# Official values; anything else is read from `billsec` (10x-media).
_MISSED = frozenset({"NO ANSWER", "FAILED", "CONGESTION"})


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One call of the PBX's history."""

    id: str
    start: datetime
    end: datetime
    answered: bool
    missed: bool
    talk_seconds: int
    from_number: str | None
    from_name: str | None
    to_number: str | None
    to_name: str | None
    voicemail: bool
    channel: str | None


def parse_time(text: str | None, offset: str | None, local: tzinfo) -> datetime | None:
    """Return an aware time from a PBX-local text and its offset (else `local`)."""
    if not text:
        return None
    try:
        naive = datetime.strptime(text.strip(), _TIME_FORMAT)
    except ValueError:
        return None
    zone: tzinfo = local
    if offset and (match := _OFFSET.fullmatch(offset.strip())):
        sign = -1 if match[1] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    return naive.replace(tzinfo=zone)


def parse_record(record: object, local: tzinfo) -> HistoryRecord | None:
    """Read one CDR row; None for faxes and rows without an id or a start."""
    if not isinstance(record, dict):
        return None
    if (text_field(record.get("type")) or "call") != "call":
        return None
    offset = text_field(record.get("timezone"), 8)
    start = parse_time(text_field(record.get("start"), 32), offset, local)
    record_id = text_field(record.get("id"), 64)
    if start is None or record_id is None:
        return None
    end = parse_time(text_field(record.get("end"), 32), offset, local) or start
    billsec = int_field(record.get("billsec")) or 0
    disposition = (text_field(record.get("disposition"), 32) or "").upper()
    answered = disposition == "ANSWERED" or (
        disposition not in _MISSED and disposition != "BUSY" and billsec > 0
    )
    last_app = (text_field(record.get("lastapp"), 64) or "").lower()
    userfield = text_field(record.get("userfield")) or ""
    return HistoryRecord(
        id=record_id,
        start=start,
        end=max(end, start),
        answered=answered,
        missed=disposition in _MISSED or (not answered and disposition != "BUSY"),
        talk_seconds=billsec if answered else 0,
        from_number=text_field(record.get("from_number"), 64),
        from_name=text_field(record.get("from_name")),
        to_number=text_field(record.get("to_number"), 64),
        to_name=text_field(record.get("to_name")),
        voicemail=last_app == "voicemail" or userfield.startswith("VM:"),
        channel=text_field(record.get("channel")),
    )


def user_history_route(extension: str) -> str:
    """Return the route of one user's call history."""
    return ROUTE_USER_HISTORY.format(extension=extension)


class PbxHistory(PbxTransport):
    """The PBX's call history: the whole PBX's, or one user's (`history_route`)."""

    history_route = ROUTE_PBX_HISTORY

    async def async_probe_history(self, route: str = ROUTE_PBX_HISTORY) -> None:
        """Read one record of a history: whether the credential may read it."""
        self._records(route, await self._result("GET", route, params={"count": 1}))

    async def async_get_history(
        self, start: datetime, end: datetime, local: tzinfo
    ) -> list[HistoryRecord]:
        """Return the calls that began in a window, asked for in PBX-local time.

        Read from `history_route`: the whole PBX's history, or for a user's token its
        own user's (the capability probe chooses).

        The filter's format is not documented (L); records use `YYYY-MM-DD HH:MM:SS`,
        so that is what is sent. The PBX reads it in its own zone, which may not be
        `local`: the filter is widened by the largest offset between zones, and the
        answer filtered again by each record's own time.
        """
        params: dict[str, str | int] = {
            "filter[start][from]": (start - ZONE_SLACK)
            .astimezone(local)
            .strftime(_TIME_FORMAT),
            "filter[start][to]": (end + ZONE_SLACK)
            .astimezone(local)
            .strftime(_TIME_FORMAT),
            "sort": "start",
            "dir": "ASC",
        }
        calls: list[HistoryRecord] = []
        route = self.history_route
        async for page in self._pages(
            route, params=params, max_pages=MAX_HISTORY_PAGES
        ):
            for item in page.records:
                if (call := parse_record(item, local)) is None:
                    self._deviation(route, "a record without id or start")
                elif start <= call.start < end:
                    calls.append(call)
        return calls
