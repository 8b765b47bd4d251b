"""Per config entry: receive verified events, deduplicate, apply them, publish what changed."""

from collections.abc import Mapping
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from .call_history import CallHistory
from .const import (
    CONF_SECRET,
    CONF_SECRET_ACCESS_KEY,
    CONF_TRANSPORT,
    DOMAIN,
    EVENT_CALL,
    EVENT_WEBHOOK,
    EXPIRY_INTERVAL,
    Transport,
)
from .deliveries import DeliveryLog, Outcome, Rejection
from .devices import WildixDevices
from .inbox_hub import WildixInbox
from .issues import Issue
from .model import Aspect, CallMoment, Changes, PbxAspect, PbxModel, Phone, User
from .options import WildixOptions
from .protocol import (
    ProtocolError,
    WildixEvent,
    decode_event,
    is_extension,
    redact_outside_parties,
    verify_signature,
    without_file_urls,
)
from .signals import EntrySignals, SignalsByKey
from .storage import ModelStorage, SeenDeliveries

if TYPE_CHECKING:
    from .coordinator import PbxApi

_LOGGER = logging.getLogger(__name__)

type WildixConfigEntry = ConfigEntry[WildixHub]

# The order a user's changes are told in, whatever order a set holds them in: the
# last call before the phone, so that as a call ends, the call log has it when
# the calendar sees the phone let go of it (one look, one write).
_USER_ASPECTS = (
    Aspect.IDENTITY,
    Aspect.PRESENCE,
    Aspect.MISSED_CALLS,
    Aspect.LAST_CALL,
    Aspect.PHONE,
    Aspect.RINGING,
    Aspect.ON_CALL,
    Aspect.CURRENT_CALL,
)


class TransportConnection(Protocol):
    """A transport connected for an entry: started once set up, stopped on unload.

    Stopping also releases what connecting took, whether or not it started.
    """

    def async_start(self) -> None:
        """Start handing deliveries to the hub."""

    async def async_stop(self) -> None:
        """Stop handing deliveries over and release the connection."""


class WildixHub:
    """The PBX of one config entry, fed by a transport, observed by entities."""

    def __init__(self, hass: HomeAssistant, entry: WildixConfigEntry) -> None:
        """Initialise the hub of a config entry."""
        self.hass = hass
        self.entry = entry
        # How the hub tells its entities and call log what changed (signals.py).
        self.signals = EntrySignals()
        options = WildixOptions.from_options(entry.options)
        self.model = PbxModel(
            stale_call_timeout=options.stale_call_timeout,
            extensions=options.extensions,
            max_users=options.max_users,
            missed_internal=options.missed_internal,
        )
        self.max_event_age = options.max_event_age
        self.show_remote = options.show_remote
        self.transport = Transport(entry.data[CONF_TRANSPORT])
        self.devices = WildixDevices(hass, entry)
        self.deliveries = DeliveryLog(hass, entry)
        self.seen = SeenDeliveries()
        self.storage = ModelStorage(hass, entry.entry_id, self.model, self.seen)
        # Voicemails and recordings, in a store of their own (inbox_hub.py).
        self.inbox = WildixInbox(hass, entry, self.signals, options.inbox_days)
        self.available = True
        self._transport_data = _transport_data(entry)
        self.pass_through = options.pass_through
        self._secret = self.secret
        self._clock_ahead_logged = False
        # What the ringing and on-call sensors and the call log calendar of each
        # user were last told: ringing, on a call, the call shown.
        self._phone_parts: dict[str, tuple[bool, bool, tuple[object, ...] | None]] = {}
        # What each user's phone shows (User.phone), worked out once per change
        # told, however many entities show part of it.
        self._phones: dict[str, Phone] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        prefix = f"{DOMAIN}_{entry.entry_id}"
        self._user_signals = SignalsByKey[tuple[str, Aspect]](
            lambda key: f"{prefix}_{key[1]}_{key[0]}"
        )
        self._pbx_signals = SignalsByKey[PbxAspect](lambda key: f"{prefix}_pbx_{key}")
        self._moment_signals = SignalsByKey[str, CallMoment, Mapping[str, Any]](
            lambda key: f"{prefix}_moment_{key}"
        )
        self.signal_new_user: SignalType[str] = SignalType(f"{prefix}_new_user")
        self.signal_available: SignalType[()] = SignalType(f"{prefix}_available")
        # The optional connection to the PBX API (coordinator.py).
        self.pbx_api: PbxApi | None = None
        # Every user's finished calls and callbacks (call_history.py), saved apart.
        self.call_history = CallHistory(self)

    @property
    def secret(self) -> str:
        """Return the secret that signs this entry's events (for SQS, the AWS secret key)."""
        key = CONF_SECRET_ACCESS_KEY if self.transport is Transport.SQS else CONF_SECRET
        secret: str = self.entry.data[key]
        return secret

    def phone(self, user: User) -> Phone:
        """Return what a user's phone shows, worked out once per change of it.

        The phone sensor, the ringing and on-call sensors, the calendar and the hub
        all look at it when the phone changed; each change of it is told with
        `Aspect.PHONE`, which starts a new look.
        """
        if (phone := self._phones.get(user.extension)) is None:
            phone = self._phones[user.extension] = user.phone()
        return phone

    def signal_user(self, extension: str, aspect: Aspect) -> SignalType[()]:
        """Return the signal sent when an aspect of a user changes."""
        return self._user_signals((extension, aspect))

    def signal_pbx(self, aspect: PbxAspect) -> SignalType[()]:
        """Return the signal sent when an aspect of the PBX changes."""
        return self._pbx_signals(aspect)

    def signal_moment(
        self, extension: str
    ) -> SignalType[CallMoment, Mapping[str, Any]]:
        """Return the signal sent when something happens in a user's call, with its data.

        The data is what automations see of the moment (`wildix_event`'s, besides
        the device and entry): worked out once for the event and its entities.
        """
        return self._moment_signals(extension)

    async def async_load(self) -> None:
        """Restore the saved model and register the devices it knows."""
        await self.storage.async_load(dt_util.utcnow().timestamp())
        await self.inbox.async_load()
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
    def async_start(self) -> None:
        """Start expiring lost calls and watching for the first event."""
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass, self._async_expire, timedelta(seconds=EXPIRY_INTERVAL)
            )
        )
        if self.model.last_event is None:
            self._unsubscribe.append(
                self.deliveries.async_watch_first_event(
                    lambda: self.model.last_event is not None
                )
            )

    @callback
    def async_apply_entry(self) -> bool:
        """Apply the entry's changed secret and options; False if it needs a reload."""
        if _transport_data(self.entry) != self._transport_data:
            return False
        if self.secret != self._secret:
            self._secret = self.secret
            self.deliveries.async_secret_changed()
        options = WildixOptions.from_options(self.entry.options)
        self.max_event_age = options.max_event_age
        self.pass_through = options.pass_through
        self.model.missed_internal = options.missed_internal
        self.model.stale_call_timeout = options.stale_call_timeout
        self.inbox.inbox.retention_days = options.inbox_days
        if (options.extensions, options.max_users) != (
            self.model.extensions,
            self.model.max_users,
        ):
            # Users refused before may fit now; the issue returns if not.
            self.deliveries.async_clear(Issue.TOO_MANY_USERS)
        self._async_remove_users(self.model.set_extensions(options.extensions))
        self._async_remove_users(self.model.limit_users(options.max_users))
        if options.show_remote != self.show_remote:
            self.show_remote = options.show_remote
            # Callers are shown in the phone's current call and in the last call.
            for extension in self.model.users:
                for aspect in (Aspect.PHONE, Aspect.CURRENT_CALL, Aspect.LAST_CALL):
                    self.signals.send(self.signal_user(extension, aspect))
        self._async_expire()
        return True

    async def async_stop(self) -> None:
        """Stop the timers and save the model (after the transport stopped)."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self.storage.async_save()
        await self.inbox.async_save()

    @callback
    def async_set_available(self, available: bool) -> None:
        """Tell entities whether the transport can currently receive events."""
        self.available = available
        self.signals.send(self.signal_available)

    @callback
    def async_deliver(self, body: bytes, signature: str | None) -> Outcome | Rejection:
        """Verify and decode the exact bytes a transport received, then take the event."""
        if signature is None or not verify_signature(self.secret, body, signature):
            self.deliveries.async_rejected(Rejection.SIGNATURE)
            _LOGGER.debug(
                "Rejected a Wildix delivery with a %s signature",
                "missing" if signature is None else "wrong",
            )
            return Rejection.SIGNATURE
        try:
            event = decode_event(body)
        except ProtocolError as err:
            self.deliveries.async_rejected(Rejection.MALFORMED)
            _LOGGER.warning("Rejected a signed Wildix delivery: %s", err)
            return Rejection.MALFORMED
        return self.async_receive(event, signature.strip().lower())

    @callback
    def async_receive(self, event: WildixEvent, key: str) -> Outcome:
        """Take a verified event; `key` identifies its exact bytes."""
        now = dt_util.utcnow()
        received = now.timestamp()
        if not self.seen.add(key, received):
            self.deliveries.async_verified(event.type, Outcome.DUPLICATE, now)
            return Outcome.DUPLICATE
        self.deliveries.async_verified(event.type, Outcome.ACCEPTED, now)
        self._async_fire_webhook_event(event)
        if event.problem is not None:
            _LOGGER.warning(
                "Ignoring a %s event that cannot be used: %s", event.type, event.problem
            )
        elif event.body is None:
            _LOGGER.debug("Ignoring a Wildix event of type %s", event.type)
        changes = self.model.apply(event, received)
        changes.moments.extend(self.inbox.async_take(event, self.model.users))
        if self.pbx_api is not None:
            self.pbx_api.book.reconcile(self.model, changes.users)
        self._async_publish(changes)
        return Outcome.ACCEPTED

    @callback
    def async_update_users(self, changes: Changes, removed: list[str]) -> None:
        """Publish what the PBX API changed, and remove the users it no longer lists."""
        self._async_remove_users(removed)
        self._async_publish(changes)

    @callback
    def async_forget_user(self, extension: str) -> None:
        """Forget a user whose device was deleted."""
        self._async_forget(extension)
        self.inbox.async_forget([extension])
        self.devices.async_forget(extension)
        self.storage.async_schedule_save()

    @callback
    def _async_fire_webhook_event(self, event: WildixEvent) -> None:
        if not self.pass_through:
            return
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
                "data": without_file_urls(
                    event.data
                    if self.show_remote
                    else redact_outside_parties(event.data)
                ),
            },
        )

    @callback
    def _async_remove_users(self, extensions: list[str]) -> None:
        """Forget users the options exclude, and delete their devices."""
        if not extensions:
            return
        for extension in extensions:
            self._async_forget(extension)
        self.inbox.async_forget(extensions)
        self.devices.async_remove(extensions)
        self.storage.async_schedule_save()

    @callback
    def _async_forget(self, extension: str) -> None:
        """Forget a user in the model and what the hub keeps of them."""
        self.model.forget_user(extension)
        self._phone_parts.pop(extension, None)
        self._phones.pop(extension, None)
        self._moment_signals.forget(extension)
        for aspect in Aspect:
            self._user_signals.forget((extension, aspect))

    @callback
    def _async_expire(self, _now: Any = None) -> None:
        self.inbox.async_expire()
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
        if changes.users_refused and not self.deliveries.is_open(Issue.TOO_MANY_USERS):
            self.deliveries.async_raise(
                Issue.TOO_MANY_USERS, max_users=str(self.model.max_users)
            )
        if not changes:
            return
        for extension in changes.new_users:
            self.devices.async_user_device(self.model.users[extension])
            self.signals.send(self.signal_new_user, extension)
        for extension, aspects in changes.users.items():
            if Aspect.PHONE in aspects:
                self._phones.pop(extension, None)
            if (user := self.model.users.get(extension)) is None:
                continue
            for aspect in _USER_ASPECTS:
                if aspect not in aspects:
                    continue
                if aspect is Aspect.IDENTITY:
                    self.devices.async_user_device(user)
                else:
                    self.signals.send(self.signal_user(extension, aspect))
                    if aspect is Aspect.PHONE:
                        self._async_phone_parts(user)
        for pbx_aspect in changes.pbx:
            if pbx_aspect is PbxAspect.DEVICE:
                self.devices.async_setup_pbx(self.model.pbx_serial)
            else:
                self.signals.send(self.signal_pbx(pbx_aspect))
        if changes.moments:
            self._async_fire_moments(changes.moments)
        self.storage.async_schedule_save()

    @callback
    def _async_phone_parts(self, user: User) -> None:
        """Tell the entities that show part of the phone, only when that part changed.

        Most changes of a phone (a call's progress, the line's status) leave whether
        it rings, whether its user is on a call and the call it shows as they were:
        the ringing and on-call sensors and the call log calendar need not look.
        """
        phone = self.phone(user)
        record = None if phone.leg is None else phone.leg.record
        shown = (
            phone.ringing,
            phone.on_call,
            None
            if record is None
            else (
                record.call_id,
                record.started_ms,
                record.remote_number,
                record.remote_name,
                record.remote_local,
            ),
        )
        before = self._phone_parts.get(user.extension)
        if before == shown:
            return
        self._phone_parts[user.extension] = shown
        if before is None or before[0] != shown[0]:
            self.signals.send(self.signal_user(user.extension, Aspect.RINGING))
        if before is None or before[1] != shown[1]:
            self.signals.send(self.signal_user(user.extension, Aspect.ON_CALL))
        if before is None or before[2] != shown[2]:
            self.signals.send(self.signal_user(user.extension, Aspect.CURRENT_CALL))

    @callback
    def _async_fire_moments(self, moments: list[CallMoment]) -> None:
        oldest_ms = (dt_util.utcnow().timestamp() - self.max_event_age) * 1000
        for moment in moments:
            if moment.time_ms < oldest_ms:
                continue
            device_id = self.devices.user_device_id(moment.extension)
            data = self.call_history.names.moment_data(
                moment, self.show_remote, self.inbox.file_of
            )
            self.signals.send(self.signal_moment(moment.extension), moment, data)
            self.hass.bus.async_fire(
                EVENT_CALL,
                {
                    "device_id": device_id,
                    "config_entry_id": self.entry.entry_id,
                    "extension": moment.extension,
                    **data,
                },
            )


def _transport_data(entry: ConfigEntry) -> dict[str, Any]:
    """Return what the transport was set up with; the secret is read live."""
    return {key: value for key, value in entry.data.items() if key != CONF_SECRET}
