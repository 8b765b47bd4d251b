"""Times as spoken or typed to Assist: "15:30", "3 pm", "15 Uhr", "15h30", or ISO."""

from datetime import datetime, timedelta
import re

from homeassistant.util import dt as dt_util

_CLOCK = re.compile(
    r"^(?P<hour>\d{1,2})(?:\s*[:.h]\s*(?P<minute>\d{2}))?\s*(?P<suffix>am|pm|a\.m\.|p\.m\.|uhr|h|heures?|ore)?$"
)


def parse_time(text: str, *, future: bool) -> datetime | None:
    """Return the moment a time means, None if it is not one.

    A time of day alone is today's; when that has passed (for an end, `future`) it is
    tomorrow's, and when it is still to come (for a start) yesterday's.
    """
    text = text.strip().casefold()
    if (moment := dt_util.parse_datetime(text)) is not None:
        return (
            dt_util.as_local(moment)
            if moment.tzinfo
            else moment.replace(tzinfo=dt_util.get_default_time_zone())
        )
    text = re.sub(r"^(?:at|alle|um|à|a)\s+", "", text)
    if (match := _CLOCK.match(text)) is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    suffix = (match["suffix"] or "").replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    now = dt_util.now()
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if future and moment <= now:
        moment += timedelta(days=1)
    elif not future and moment > now:
        moment -= timedelta(days=1)
    return moment
