"""Per config entry: deduplicate verified events, apply them, tell entities and automations."""

from collections import Counter, OrderedDict
from datetime import timedelta
from enum import StrEnum
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from .const import (
    CONF_SECRET,
    DEFAULT_MAX_EVENT_AGE,
    DOMAIN,
    DUPLICATE_CACHE_SIZE,
    EVENT_CALL,
    EVENT_WEBHOOK,
    EXPIRY_INTERVAL,
    SAVE_DELAY,
)
from .devices import WildixDevices
from .model import CallMoment, Changes, PbxModel
from .protocol import WildixEvent
from .views import moment_data

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1

type WildixConfigEntry = ConfigEntry[WildixHub]


class Outcome(StrEnum):
    """What became of a verified delivery."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class WildixHub:
    """The PBX of one config entry, fed by a transport, observed by entities."""

    def __init__(self, hass: HomeAssistant, entry: WildixConfigEntry) -> None:
        """Initialise the hub of a config entry."""
        self.hass = hass
        self.entry = entry
        self.model = PbxModel()
        self.devices = WildixDevices(hass, entry)
        self.max_event_age = DEFAULT_MAX_EVENT_AGE
        self.show_remote = True
        self.counters: Counter[str] = Counter()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._save_pending = False
        self.signal_new_user: SignalType[str] = SignalType(
            f"{DOMAIN}_{entry.entry_id}_new_user"
        )
        self.signal_pbx: SignalType[()] = SignalType(f"{DOMAIN}_{entry.entry_id}_pbx")

    @property
    def secret(self) -> str:
        """Return the secret that signs this entry's events."""
        secret: str = self.entry.data[CONF_SECRET]
        return secret

    def signal_user(self, extension: str) -> SignalType[()]:
        """Return the signal sent when a user's state changes."""
        return SignalType(f"{DOMAIN}_{self.entry.entry_id}_user_{extension}")

    def signal_moment(self, extension: str) -> SignalType[CallMoment]:
        """Return the signal sent when something happens in a user's call."""
        return SignalType(f"{DOMAIN}_{self.entry.entry_id}_moment_{extension}")

    async def async_start(self) -> None:
        """Restore the model, register devices, start expiring lost calls."""
        if (stored := await self._store.async_load()) is not None:
            self.model.restore(stored)
        self.devices.async_setup_pbx(self.model.pbx_serial)
        for user in self.model.users.values():
            self.devices.async_user_device(user)
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass, self._async_expire, timedelta(seconds=EXPIRY_INTERVAL)
            )
        )

    async def async_stop(self) -> None:
        """Stop timers and save the model now."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self._store.async_save(self.model.as_dict())

    async def async_remove_store(self) -> None:
        """Delete what this entry saved."""
        await self._store.async_remove()

    @callback
    def async_reject(self, reason: str) -> None:
        """Count a delivery that was refused."""
        self.counters["received"] += 1
        self.counters[f"rejected_{reason}"] += 1

    @callback
    def async_receive(self, event: WildixEvent, key: str) -> Outcome:
        """Take a verified event; `key` identifies its exact bytes."""
        self.counters["received"] += 1
        if key in self._seen:
            self.counters["duplicate"] += 1
            return Outcome.DUPLICATE
        self._seen[key] = None
        if len(self._seen) > DUPLICATE_CACHE_SIZE:
            self._seen.popitem(last=False)
        self.counters["accepted"] += 1
        self.hass.bus.async_fire(
            EVENT_WEBHOOK,
            {
                "config_entry_id": self.entry.entry_id,
                "type": event.type,
                "id": event.id,
                "time": event.time,
                "pbx": event.pbx,
                "company": event.company,
                "integration_id": event.integration_id,
                "data": event.data,
            },
        )
        if event.problem is not None:
            _LOGGER.warning(
                "Ignoring a %s event that cannot be used: %s", event.type, event.problem
            )
        elif event.body is None:
            _LOGGER.debug("Ignoring a Wildix event of type %s", event.type)
        self._async_publish(self.model.apply(event, dt_util.utcnow().timestamp()))
        return Outcome.ACCEPTED

    @callback
    def async_forget_user(self, extension: str) -> None:
        """Forget a user whose device was deleted."""
        self.model.forget_user(extension)
        self.devices.async_forget(extension)
        self._async_schedule_save()

    @callback
    def _async_expire(self, _now: Any = None) -> None:
        self._async_publish(self.model.expire(dt_util.utcnow().timestamp()))

    @callback
    def _async_publish(self, changes: Changes) -> None:
        for extension in changes.new_users:
            self.devices.async_user_device(self.model.users[extension])
            async_dispatcher_send(self.hass, self.signal_new_user, extension)
        for extension in changes.users:
            if (user := self.model.users.get(extension)) is None:
                continue
            self.devices.async_user_device(user)
            async_dispatcher_send(self.hass, self.signal_user(extension))
        if changes.pbx:
            self.devices.async_setup_pbx(self.model.pbx_serial)
            async_dispatcher_send(self.hass, self.signal_pbx)
        if changes.moments:
            self._async_fire_moments(changes.moments)
        self._async_schedule_save()

    @callback
    def _async_fire_moments(self, moments: list[CallMoment]) -> None:
        oldest_ms = (dt_util.utcnow().timestamp() - self.max_event_age) * 1000
        for moment in moments:
            if moment.time_ms < oldest_ms:
                continue
            device_id = self.devices.user_device_id(moment.extension)
            async_dispatcher_send(
                self.hass, self.signal_moment(moment.extension), moment
            )
            self.hass.bus.async_fire(
                EVENT_CALL,
                {
                    "device_id": device_id,
                    "config_entry_id": self.entry.entry_id,
                    "extension": moment.extension,
                    **moment_data(moment, self.show_remote),
                },
            )

    @callback
    def _async_schedule_save(self) -> None:
        # Store pushes a pending delayed save back on every call, so under steady
        # traffic it would never write; ask once per delay instead.
        if not self._save_pending:
            self._save_pending = True
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        self._save_pending = False
        return self.model.as_dict()
