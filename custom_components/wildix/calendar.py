"""Calendars: each user's call log, every finished call an event, on during a call."""

from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .call_log import LoggedCall
from .changes import Aspect
from .entity import WildixEntity, async_add_user_entities
from .hub import WildixConfigEntry
from .views import timestamp

PARALLEL_UPDATES = 0

CALL_LOG = CalendarEntityDescription(key="call_log", translation_key="call_log")

# An event as shown: summary, description, start and end (epoch ms), uid.
type Shown = tuple[str, str | None, int, int, str]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call log of every user, known now or later."""
    hub = entry.runtime_data
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (WildixCallLogCalendar(hub, CALL_LOG, extension),),
    )


class WildixCallLogCalendar(WildixEntity, CalendarEntity):
    """A user's finished calls as events; the call in progress as the current one."""

    extension: str
    # The event shown and what it was made of: a change that leaves it alone writes nothing.
    _current: CalendarEvent | None = None
    _shown: tuple[object, ...] | None = None
    # The latest finished call as shown, and the way it was shown (the call itself,
    # names and privacy).
    _latest: tuple[tuple[object, ...], Shown] | None = None

    @property
    def event(self) -> CalendarEvent | None:
        """Return the call in progress, else the last finished call."""
        return self._current

    def _update_event(self) -> bool:
        """Work out the event to show; return whether it differs from the one shown.

        What it shows is compared first (texts, times to the second); Home
        Assistant's validated `CalendarEvent` is built only when that changed.
        """
        shown = self._shown_now()
        # What the state and its attributes show: times to the second.
        key = (
            None if shown is None else (*shown[:2], shown[2] // 1000, shown[3] // 1000)
        )
        if key == self._shown:
            return False
        self._shown = key
        self._current = None if shown is None else _calendar_event(*shown)
        return True

    def _shown_now(self) -> Shown | None:
        """Return the call in progress, else the last finished call, as shown."""
        history = self.hub.call_history
        if (user := self.user) is not None and (
            leg := self.hub.phone(user).leg
        ) is not None:
            record = leg.record
            start = record.started_ms
            # Calls without news end at the stale-call timeout: so does the event.
            end = start + int(self.hub.model.stale_call_timeout * 1000)
            party = history.render().party(
                record.remote_number, record.remote_name, record.remote_local
            )
            return (
                history.texts["call_with"].format(party=party),
                None,
                start,
                max(end, int(dt_util.utcnow().timestamp() * 1000) + 60_000),
                record.call_id,
            )
        latest = history.log(self.extension).latest()
        if latest is None:
            return None
        # The log gives the same call back while its latest call stays (call_log.py):
        # rendered once, not at each look (a call's end is seen twice: as the phone
        # lets go of it and as the log takes it).
        way = (latest, history.generation, self.hub.show_remote)
        if self._latest is None or self._latest[0] != way:
            self._latest = (way, self._shown_call(latest))
        return self._latest[1]

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the calls in a window, with the PBX's history of it."""
        await self.hub.call_history.async_backfill(start_date, end_date)
        calls = self.hub.call_history.log(self.extension).between(
            int(start_date.timestamp() * 1000), int(end_date.timestamp() * 1000)
        )
        return [self._event(call) for call in calls]

    async def async_added_to_hass(self) -> None:
        """Follow the user's phone and call log."""
        self._update_event()
        await super().async_added_to_hass()
        for signal in (
            self.hub.signal_user(self.extension, Aspect.CURRENT_CALL),
            self.hub.call_history.signal_changed(self.extension),
        ):
            self.async_on_remove(self.hub.signals.connect(signal, self._async_changed))

    @callback
    def _async_changed(self) -> None:
        if self._update_event():
            self.async_write_ha_state()

    def _event(self, call: LoggedCall) -> CalendarEvent:
        return _calendar_event(*self._shown_call(call))

    def _shown_call(self, call: LoggedCall) -> Shown:
        """Return a finished call as its event shows it (times in epoch ms)."""
        render = self.hub.call_history.render()
        start = call.started_ms
        return (
            render.summary(call),
            render.description(call, self.hub.call_history.names.user_name),
            start,
            # A calendar event lasts; a call that never rang shows as one second.
            max(call.ended_ms, start + 1000),
            call.call_id,
        )


class CallEvent(CalendarEvent):
    """A call as a calendar event, valid as built: Home Assistant's check is skipped.

    `CalendarEvent` checks itself when built: a copy of every field through a
    schema, which cost more than all else the calendar does for a change. What it
    checks holds by construction here: start and end are aware datetimes
    (`timestamp`), the end comes after the start, the summary is a text.
    """

    def __post_init__(self) -> None:
        """Take the fields as they are."""


def _calendar_event(
    summary: str, description: str | None, start_ms: int, end_ms: int, uid: str
) -> CalendarEvent:
    return CallEvent(
        start=timestamp(start_ms),
        end=timestamp(end_ms),
        summary=summary,
        description=description,
        uid=uid,
    )
