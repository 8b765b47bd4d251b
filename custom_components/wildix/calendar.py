"""Calendars: each user's call log, every finished call an event, on during a call."""

from datetime import datetime, timedelta

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .call_log import LoggedCall
from .changes import Aspect
from .entity import WildixEntity, async_add_user_entities
from .hub import WildixConfigEntry
from .views import timestamp

PARALLEL_UPDATES = 0

CALL_LOG = CalendarEntityDescription(key="call_log", translation_key="call_log")


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

    @property
    def event(self) -> CalendarEvent | None:
        """Return the call in progress, else the last finished call."""
        return self._current

    def _update_event(self) -> bool:
        """Work out the event to show; return whether it differs from the one shown."""
        event, live = self._current_call()
        shown = (
            None
            if event is None
            else (event.uid, event.start, event.summary, event.description, live)
        )
        if shown == self._shown:
            return False
        self._current, self._shown = event, shown
        return True

    def _current_call(self) -> tuple[CalendarEvent | None, bool]:
        """Return the call in progress (and True), else the last finished call."""
        history = self.hub.call_history
        if (user := self.user) is not None and (leg := user.phone().leg) is not None:
            record = leg.record
            start = timestamp(record.started_ms)
            # Calls without news end at the stale-call timeout: so does the event.
            end = start + timedelta(seconds=self.hub.model.stale_call_timeout)
            party = history.render().party(
                record.remote_number, record.remote_name, record.remote_local
            )
            event = CalendarEvent(
                start=start,
                end=max(end, dt_util.utcnow() + timedelta(minutes=1)),
                summary=history.texts["call_with"].format(party=party),
                uid=record.call_id,
            )
            return event, True
        latest = history.log(self.extension).latest()
        return (None if latest is None else self._event(latest)), False

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
            self.hub.signal_user(self.extension, Aspect.PHONE),
            self.hub.call_history.signal_changed(self.extension),
        ):
            self.async_on_remove(
                async_dispatcher_connect(self.hass, signal, self._async_changed)
            )

    @callback
    def _async_changed(self) -> None:
        if self._update_event():
            self.async_write_ha_state()

    def _event(self, call: LoggedCall) -> CalendarEvent:
        render = self.hub.call_history.render()
        start = timestamp(call.started_ms)
        return CalendarEvent(
            start=start,
            # A calendar event lasts; a call that never rang shows as one second.
            end=max(timestamp(call.ended_ms), start + timedelta(seconds=1)),
            summary=render.summary(call),
            description=render.description(call, self.hub.call_history.names.user_name),
            uid=call.call_id,
        )
