"""Per config entry: deduplicate verified events, apply them, tell entities and automations."""

from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from .const import (
    CONF_SECRET,
    CONF_SECRET_ACCESS_KEY,
    CONF_TRANSPORT,
    DOMAIN,
    DUPLICATE_CACHE_SIZE,
    DUPLICATE_MEMORY,
    EVENT_CALL,
    EVENT_WEBHOOK,
    EXPIRY_INTERVAL,
    NO_EVENTS_GRACE,
    RECENT_DELIVERIES,
    REJECTION_STREAK,
    REJECTION_WINDOW,
    SAVE_DELAY,
    Transport,
)
from .devices import WildixDevices
from .issues import Issue, async_clear_issue, async_open_issues, async_raise_issue
from .model import CallMoment, Changes, PbxModel
from .options import WildixOptions
from .persistence import model_as_dict, restore_model
from .protocol import (
    ProtocolError,
    WildixEvent,
    decode_event,
    is_extension,
    redact_outside_parties,
    verify_signature,
)
from .views import moment_data

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 2

type WildixConfigEntry = ConfigEntry[WildixHub]


class Outcome(StrEnum):
    """What became of a verified delivery."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class Rejection(StrEnum):
    """Why a transport refused a delivery."""

    SIGNATURE = "signature"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNDECODABLE = "undecodable"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery as diagnostics show it: what, when and what became of it."""

    received: datetime
    type: str | None
    result: str


class WildixHub:
    """The PBX of one config entry, fed by a transport, observed by entities."""

    def __init__(self, hass: HomeAssistant, entry: WildixConfigEntry) -> None:
        """Initialise the hub of a config entry."""
        self.hass = hass
        self.entry = entry
        options = WildixOptions.from_options(entry.options)
        self.model = PbxModel(
            stale_call_timeout=options.stale_call_timeout,
            extensions=options.extensions,
            max_users=options.max_users,
            missed_internal=options.missed_internal,
        )
        self.devices = WildixDevices(hass, entry)
        self.max_event_age = options.max_event_age
        self.show_remote = options.show_remote
        self.pass_through = options.pass_through
        self.counters: Counter[str] = Counter()
        self.recent: deque[Delivery] = deque(maxlen=RECENT_DELIVERIES)
        self._rejections: deque[float] = deque(maxlen=REJECTION_STREAK)
        self._transport = _transport_data(entry)
        self._secret = self.secret
        # The deliveries taken, by signature, with the time they arrived.
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry.entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
        )
        self._clock_ahead_logged = False
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._issues: set[Issue] = set()
        self._stop_transport: Callable[[], Awaitable[None] | None] | None = None
        self._save_pending = False
        self.signal_new_user: SignalType[str] = SignalType(
            f"{DOMAIN}_{entry.entry_id}_new_user"
        )
        self.signal_pbx: SignalType[()] = SignalType(f"{DOMAIN}_{entry.entry_id}_pbx")
        self.available = True
        self.signal_available: SignalType[()] = SignalType(
            f"{DOMAIN}_{entry.entry_id}_available"
        )

    @property
    def transport(self) -> Transport:
        """Return how this entry's events arrive; entries older than SQS support are webhooks."""
        return Transport(self.entry.data.get(CONF_TRANSPORT, Transport.WEBHOOK))

    @property
    def secret(self) -> str:
        """Return the secret that signs this entry's events (for SQS, the AWS secret key)."""
        key = CONF_SECRET_ACCESS_KEY if self.transport is Transport.SQS else CONF_SECRET
        secret: str = self.entry.data[key]
        return secret

    def signal_user(self, extension: str) -> SignalType[()]:
        """Return the signal sent when a user's state changes."""
        return SignalType(f"{DOMAIN}_{self.entry.entry_id}_user_{extension}")

    def signal_moment(self, extension: str) -> SignalType[CallMoment]:
        """Return the signal sent when something happens in a user's call."""
        return SignalType(f"{DOMAIN}_{self.entry.entry_id}_moment_{extension}")

    async def async_load(self) -> None:
        """Restore the saved model and register the devices it knows."""
        self._issues = async_open_issues(self.hass, self.entry.entry_id)
        if (stored := await self._store.async_load()) is not None:
            now = dt_util.utcnow().timestamp()
            restore_model(self.model, stored, now)
            self._seen.update(
                (key, received)
                for key, received in stored.get("deliveries", [])
                if received >= now - DUPLICATE_MEMORY
            )
        self.devices.async_setup_pbx(self.model.pbx_serial)
        self._async_remove_users(
            [
                ext
                for ext in self.model.users
                if not self.model.tracks(ext) or not is_extension(ext)
            ]
        )
        self._async_remove_users(self.model.limit_users(self.model.max_users))
        for user in self.model.users.values():
            self.devices.async_user_device(user)

    @callback
    def async_start(self, stop_transport: Callable[[], Awaitable[None] | None]) -> None:
        """Start expiring lost calls; remember how to stop the running transport."""
        self._stop_transport = stop_transport
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass, self._async_expire, timedelta(seconds=EXPIRY_INTERVAL)
            )
        )
        if self.model.last_event is None:
            waited = dt_util.utcnow() - self.entry.created_at
            self._unsubscribe.append(
                async_call_later(
                    self.hass,
                    max(0.0, NO_EVENTS_GRACE - waited.total_seconds()),
                    self._async_check_events_arrived,
                )
            )

    @callback
    def async_apply_entry(self) -> bool:
        """Apply the entry's changed secret and options; False if it needs a reload."""
        if _transport_data(self.entry) != self._transport:
            return False
        if self.secret != self._secret:
            self._secret = self.secret
            self._rejections.clear()
        options = WildixOptions.from_options(self.entry.options)
        self.max_event_age = options.max_event_age
        self.pass_through = options.pass_through
        self.model.missed_internal = options.missed_internal
        self.model.stale_call_timeout = options.stale_call_timeout
        if (options.extensions, options.max_users) != (
            self.model.extensions,
            self.model.max_users,
        ):
            # Users refused before may fit now; the issue returns if not.
            self._async_clear(Issue.TOO_MANY_USERS)
        self._async_remove_users(self.model.set_extensions(options.extensions))
        self._async_remove_users(self.model.limit_users(options.max_users))
        if options.show_remote != self.show_remote:
            self.show_remote = options.show_remote
            for extension in self.model.users:
                async_dispatcher_send(self.hass, self.signal_user(extension))
        self._async_expire()
        return True

    async def async_stop(self) -> None:
        """Stop the transport and the timers, then save the model."""
        if (stop := self._stop_transport) is not None:
            self._stop_transport = None
            if (pending := stop()) is not None:
                await pending
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self._store.async_save(self._data_to_save())

    async def async_remove_store(self) -> None:
        """Delete what this entry saved."""
        await self._store.async_remove()

    @callback
    def async_set_available(self, available: bool) -> None:
        """Tell entities whether the transport can currently receive events."""
        self.available = available
        async_dispatcher_send(self.hass, self.signal_available)

    @callback
    def async_deliver(self, body: bytes, signature: str | None) -> Outcome | Rejection:
        """Verify and decode the exact bytes a transport received, then take the event."""
        if signature is None or not verify_signature(self.secret, body, signature):
            self.async_reject(Rejection.SIGNATURE)
            _LOGGER.debug(
                "Rejected a Wildix delivery with a %s signature",
                "missing" if signature is None else "wrong",
            )
            return Rejection.SIGNATURE
        try:
            event = decode_event(body)
        except ProtocolError as err:
            self.async_reject(Rejection.MALFORMED)
            _LOGGER.warning("Rejected a signed Wildix delivery: %s", err)
            return Rejection.MALFORMED
        return self.async_receive(event, signature.strip().lower())

    @callback
    def async_reject(self, reason: str) -> None:
        """Count a delivery that was refused; a run of bad signatures raises an issue."""
        now = dt_util.utcnow()
        result = f"rejected_{reason}"
        self.counters["received"] += 1
        self.counters[result] += 1
        self.recent.append(Delivery(now, None, result))
        if reason == Rejection.MALFORMED:
            self._async_signature_accepted()
        elif reason == Rejection.SIGNATURE:
            self._rejections.append(now.timestamp())
            if (
                len(self._rejections) == REJECTION_STREAK
                and self._rejections[-1] - self._rejections[0] <= REJECTION_WINDOW
            ):
                self._async_raise(Issue.SIGNATURE_REJECTED)

    @callback
    def async_receive(self, event: WildixEvent, key: str) -> Outcome:
        """Take a verified event; `key` identifies its exact bytes."""
        self.counters["received"] += 1
        self._async_signature_accepted()
        if key in self._seen:
            self.counters["duplicate"] += 1
            self.recent.append(
                Delivery(dt_util.utcnow(), event.type, Outcome.DUPLICATE)
            )
            return Outcome.DUPLICATE
        self._seen[key] = dt_util.utcnow().timestamp()
        if len(self._seen) > DUPLICATE_CACHE_SIZE:
            self._seen.popitem(last=False)
        self.counters["accepted"] += 1
        self.recent.append(Delivery(dt_util.utcnow(), event.type, Outcome.ACCEPTED))
        self._async_clear(Issue.NO_EVENTS)
        if self.pass_through:
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
                    "data": event.data
                    if self.show_remote
                    else redact_outside_parties(event.data),
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
    def _async_remove_users(self, extensions: list[str]) -> None:
        """Forget users the options exclude, and delete their devices."""
        if not extensions:
            return
        for extension in extensions:
            self.model.forget_user(extension)
        self.devices.async_remove(extensions)
        self._async_schedule_save()

    @callback
    def _async_signature_accepted(self) -> None:
        self._rejections.clear()
        self._async_clear(Issue.SIGNATURE_REJECTED)

    @callback
    def _async_raise(self, issue: Issue, **placeholders: str) -> None:
        self._issues.add(issue)
        async_raise_issue(self.hass, self.entry, issue, **placeholders)

    @callback
    def _async_clear(self, issue: Issue) -> None:
        # Every accepted event clears; only touch the registry if it has one.
        if issue in self._issues:
            self._issues.discard(issue)
            async_clear_issue(self.hass, self.entry.entry_id, issue)

    @callback
    def _async_check_events_arrived(self, _now: Any = None) -> None:
        if self.model.last_event is None:
            self._async_raise(Issue.NO_EVENTS)

    @callback
    def _async_expire(self, _now: Any = None) -> None:
        self._async_publish(self.model.expire(dt_util.utcnow().timestamp()))

    @callback
    def _async_publish(self, changes: Changes) -> None:
        if changes.clock_ahead and not self._clock_ahead_logged:
            self._clock_ahead_logged = True
            _LOGGER.warning(
                "Wildix events of %s are stamped far ahead of the time they arrive; "
                "using the time of arrival instead. Check the clock of the PBX",
                self.entry.title,
            )
        if changes.users_refused and Issue.TOO_MANY_USERS not in self._issues:
            self._async_raise(Issue.TOO_MANY_USERS, max_users=str(self.model.max_users))
        if not changes:
            return
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
        return model_as_dict(self.model) | {
            "deliveries": [[key, received] for key, received in self._seen.items()]
        }


def _transport_data(entry: ConfigEntry) -> dict[str, Any]:
    """Return what the transport was set up with; the secret is read live."""
    return {key: value for key, value in entry.data.items() if key != CONF_SECRET}
