"""Per entry: log every user's finished calls and callbacks, keep them across restarts, tell entities.

Observes the hub's existing signals: a user's last call changing, and the end of
each of their calls. Saved in its own store, apart from the model.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from .call_log import DayTotals, LoggedCall, UserCallLog
from .call_log_store import CallLogStore
from .call_log_texts import ENGLISH, CallLogTexts, async_load_texts
from .call_names import CallNames
from .callbacks import CallbackList
from .changes import Aspect, CallMoment, MomentType
from .const import DOMAIN
from .local_day import LocalDay
from .options import WildixOptions
from .pbx_call_log import PbxCallLog
from .phone_numbers import number_key
from .signals import SignalsByKey

if TYPE_CHECKING:
    from .hub import WildixHub


class CallHistory:
    """The call logs and callback lists of an entry's users."""

    def __init__(self, hub: "WildixHub") -> None:
        """Initialise empty logs for a hub."""
        self.hass = hub.hass
        self.hub = hub
        self.logs: dict[str, UserCallLog] = {}
        self.callbacks: dict[str, CallbackList] = {}
        self.store = CallLogStore(self)
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._followed: dict[str, list[CALLBACK_TYPE]] = {}
        self.texts = ENGLISH
        # Counts the changes of how calls are shown (names, privacy) for every user.
        self.generation = 0
        # The PBX's history and phonebooks, with the PBX API (pbx_call_log.py).
        self.pbx: PbxCallLog | None = None
        self.names = CallNames(hub.model, lambda: self.pbx)
        self._day = LocalDay()
        prefix = f"{DOMAIN}_{hub.entry.entry_id}"
        self._log_signals = SignalsByKey[str](lambda key: f"{prefix}_call_log_{key}")
        self._callback_signals = SignalsByKey[str](
            lambda key: f"{prefix}_callbacks_{key}"
        )
        self._today_signals = SignalsByKey[str, DayTotals](
            lambda key: f"{prefix}_call_log_today_{key}"
        )
        # What each user's calls of today added up to when the daily sensors were
        # last told: they are told only when that changed.
        self._told_today: dict[str, DayTotals] = {}

    def signal_changed(self, extension: str) -> SignalType[()]:
        """Return the signal sent when a user's call log changed."""
        return self._log_signals(extension)

    def signal_callbacks(self, extension: str) -> SignalType[()]:
        """Return the signal sent when a user's callbacks changed."""
        return self._callback_signals(extension)

    def signal_today(self, extension: str) -> SignalType[DayTotals]:
        """Return the signal sent with what a user's calls of today add up to, when that changed."""
        return self._today_signals(extension)

    def number_key(self, number: str) -> str:
        """Return a number normalised in Home Assistant's country."""
        return number_key(number, self.hass.config.country)

    def log(self, extension: str) -> UserCallLog:
        """Return a user's call log, empty if none is kept yet."""
        if (log := self.logs.get(extension)) is None:
            options = WildixOptions.from_options(self.hub.entry.options)
            log = self.logs[extension] = UserCallLog(
                options.call_log_days, options.call_log_calls
            )
        return log

    def today(self, extension: str) -> DayTotals:
        """Return what a user's calls that began today (local time) add up to."""
        return self.log(extension).totals_since(self._day.start_ms())

    def callback_list(self, extension: str) -> CallbackList:
        """Return a user's callbacks, empty if none is kept yet."""
        if (items := self.callbacks.get(extension)) is None:
            items = self.callbacks[extension] = CallbackList(self.number_key)
        return items

    def render(self) -> CallLogTexts:
        """Return the renderer of calls and callbacks, privacy as the options say."""
        return CallLogTexts(self.texts, self.hub.show_remote, self.names.find)

    async def async_backfill(self, start: datetime, end: datetime) -> None:
        """Add the PBX's history of a window to the logs, once per day."""
        if self.pbx is not None:
            await self.pbx.async_backfill(start, end)

    @callback
    def async_names_changed(self) -> None:
        """Show calls and callbacks again: the phonebooks changed."""
        self.generation += 1
        for extension in self.logs:
            self.hub.signals.send(self.signal_changed(extension))
        for extension in self.callbacks:
            self.hub.signals.send(self.signal_callbacks(extension))

    async def async_load(self) -> None:
        """Restore the saved logs and callbacks, and read the texts."""
        self.texts = await async_load_texts(self.hass)
        await self.store.async_restore(_now_ms())

    @callback
    def async_start(self) -> None:
        """Follow every user's calls, and start each day anew at local midnight."""
        for extension in self.hub.model.users:
            self._follow(extension)
        if self.hub.pbx_api is not None:
            self.pbx = PbxCallLog(
                self, self.hub.pbx_api.client, self.hub.pbx_api.features
            )
            self.pbx.async_start()
        self._unsubscribe += [
            self.hub.signals.connect(self.hub.signal_new_user, self._follow),
            async_track_time_change(
                self.hass, self._async_new_day, hour=0, minute=0, second=0
            ),
        ]

    async def async_stop(self) -> None:
        """Stop following and save now."""
        if self.pbx is not None:
            self.pbx.async_stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for followed in self._followed.values():
            for unsubscribe in followed:
                unsubscribe()
        self._unsubscribe.clear()
        self._followed.clear()
        await self.store.async_save()

    @callback
    def async_apply_options(self) -> None:
        """Apply changed bounds of the logs."""
        options = WildixOptions.from_options(self.hub.entry.options)
        now_ms = _now_ms()
        for log in self.logs.values():
            log.max_days = options.call_log_days
            log.max_calls = options.call_log_calls
            log.prune(now_ms)
        self.store.async_schedule_save()
        # What is shown of outside parties may have changed too.
        self.async_names_changed()
        for extension in self.logs:
            self._async_tell_today(extension)

    @callback
    def async_add(self, extension: str, call: LoggedCall) -> None:
        """Log a finished call of a user and follow it in their callbacks."""
        self.async_add_calls(extension, (call,))

    @callback
    def async_add_calls(self, extension: str, calls: Iterable[LoggedCall]) -> None:
        """Log finished calls of a user (oldest first); entities update once."""
        now_ms = _now_ms()
        log = self.log(extension)
        items = self.callback_list(extension)
        logged = followed = False
        for call in calls:
            logged |= log.add(call, now_ms)
            if call.call_id in log:
                followed |= items.take(call, now_ms)
        self._async_changed(extension, log=logged, callbacks=followed)

    @callback
    def async_callbacks_edited(self, extension: str) -> None:
        """Save and show callbacks a user edited."""
        self._async_changed(extension, log=False, callbacks=True)

    @callback
    def _follow(self, extension: str) -> None:
        if extension in self._followed:
            return
        hub = self.hub
        self._followed[extension] = [
            hub.signals.connect(
                hub.signal_user(extension, Aspect.LAST_CALL),
                partial(self._async_last_call, extension),
            ),
            hub.signals.connect(hub.signal_moment(extension), self._async_moment),
        ]

    @callback
    def _async_last_call(self, extension: str) -> None:
        """Log a user's last call, ended or refined since."""
        if (user := self.hub.model.users.get(extension)) is None:
            return
        if (record := user.last_call) is None:
            return
        call = self.hub.model.ended_calls.get(record.call_id)
        if (logged := LoggedCall.from_record(extension, record, call)) is not None:
            self.async_add(extension, logged)

    @callback
    def _async_moment(self, moment: CallMoment, _data: Mapping[str, Any]) -> None:
        """Log a call that ended while it was not the user's last (overlapping calls)."""
        if moment.type is not MomentType.CALL_ENDED:
            return
        if (call := self.hub.model.ended_calls.get(moment.call_id)) is None:
            return
        if (leg := call.legs.get(moment.extension)) is None:
            return
        record = leg.record
        user = self.hub.model.users.get(moment.extension)
        if (
            user is not None
            and user.last_call is record
            and self.hub.model.ended_calls.get(record.call_id) is call
        ):
            # Its end changed the user's last call too, which logged the same.
            return
        logged = LoggedCall.from_record(moment.extension, record, call)
        if logged is not None:
            self.async_add(moment.extension, logged)

    @callback
    def _async_new_day(self, _now: datetime) -> None:
        now_ms = _now_ms()
        for extension, log in self.logs.items():
            self._async_changed(extension, log=log.prune(now_ms), callbacks=False)
        for extension, items in self.callbacks.items():
            self._async_changed(extension, log=False, callbacks=items.expire(now_ms))
        # A new day: today's totals start again from zero.
        for extension in self.logs:
            self._async_tell_today(extension)

    @callback
    def _async_changed(self, extension: str, *, log: bool, callbacks: bool) -> None:
        """Save, and tell those who show a user's call log or callbacks, what changed."""
        if not (log or callbacks):
            return
        self.store.async_schedule_save()
        if log:
            self.hub.signals.send(self.signal_changed(extension))
            self._async_tell_today(extension)
        if callbacks:
            self.hub.signals.send(self.signal_callbacks(extension))

    @callback
    def _async_tell_today(self, extension: str) -> None:
        """Tell a user's daily sensors what their calls of today add up to, if that changed.

        Worked out once for the three sensors, and not told when a change of the
        log (a call refined, a callback edited) leaves today's totals as they were.
        """
        totals = self.today(extension)
        if self._told_today.get(extension) != totals:
            self._told_today[extension] = totals
            self.hub.signals.send(self.signal_today(extension), totals)


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)
