"""Where today begins in Home Assistant's time zone, worked out once a day."""

from datetime import timedelta, tzinfo

from homeassistant.util import dt as dt_util


class LocalDay:
    """The start of the local day, in epoch ms, remembered until the day (or zone) changes.

    Working it out takes time zone arithmetic; the daily sensors ask at every change
    of a user's call log.
    """

    def __init__(self) -> None:
        """Initialise with no day known yet."""
        self._zone: tzinfo | None = None
        self._start_ms = self._next_ms = 0

    def start_ms(self) -> int:
        """Return when today began (local midnight), in epoch ms."""
        now_ms = int(dt_util.utcnow().timestamp() * 1000)
        zone = dt_util.get_default_time_zone()
        if zone is not self._zone or not self._start_ms <= now_ms < self._next_ms:
            today = dt_util.now(zone).date()
            self._zone = zone
            self._start_ms = int(dt_util.start_of_local_day(today).timestamp() * 1000)
            self._next_ms = int(
                dt_util.start_of_local_day(today + timedelta(days=1)).timestamp() * 1000
            )
        return self._start_ms
