"""Actions on the PBX through its API: set users' presence, ring a user's phone, end a call."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util

from .action_errors import failed, invalid
from .call_log_services import async_setup_call_log_services
from .const import DOMAIN
from .coordinator import PbxApi
from .devices import find_user
from .dial_rules import dial_prefixes, dial_refusal
from .pbx_calls import normalize_number
from .pbx_presence import PresenceStatus
from .pbx_transport import MAX_TEXT, PbxError, PbxRouteMissingError
from .people import async_acting_user, check_may_act_for
from .schema import vol

_LOGGER = logging.getLogger(__name__)

SERVICE_SET_PRESENCE: Final = "set_presence"
SERVICE_CALL: Final = "call"
SERVICE_HANG_UP: Final = "hang_up"

ATTR_STATUS: Final = "status"
ATTR_MESSAGE: Final = "message"
ATTR_UNTIL: Final = "until"
ATTR_NUMBER: Final = "number"

# Seconds one action may take in all, whatever it asks of the PBX; tests shorten it.
ACTION_TIMEOUT = 10.0
# Requests one action sends to the PBX at the same time (set_presence for many users).
CONCURRENT_REQUESTS = 8
MAX_DEVICES = 100
# Longer than any phone number with separators; normalize_number checks the rest.
MAX_NUMBER = 64

SET_PRESENCE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(
            cv.ensure_list, vol.Length(min=1, max=MAX_DEVICES), [cv.string]
        ),
        vol.Required(ATTR_STATUS): vol.In([status.value for status in PresenceStatus]),
        vol.Optional(ATTR_MESSAGE): vol.All(cv.string, vol.Length(max=MAX_TEXT)),
        vol.Optional(ATTR_UNTIL): cv.datetime,
    }
)
CALL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_NUMBER): vol.All(cv.string, vol.Length(max=MAX_NUMBER)),
    }
)
HANG_UP_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


@dataclass(frozen=True, slots=True)
class _User:
    """A PBX user an action acts for: their entry's API connection and extension."""

    api: PbxApi
    extension: str
    name: str

    @property
    def entry_title(self) -> str:
        """Return the title of the user's config entry."""
        return self.api.hub.entry.title

    @property
    def options(self) -> Mapping[str, Any]:
        """Return the options of the user's config entry."""
        return self.api.hub.entry.options


async def _users(call: ServiceCall, device_ids: list[str]) -> list[_User]:
    """Return the PBX users of devices, once the caller may act for every one of them.

    Raises Unauthorized for a user who is not an administrator and not the one linked
    to the caller's person, before anything is sent to a PBX.
    """
    users = [_user(call.hass, device_id) for device_id in device_ids]
    acting = await async_acting_user(call.hass, call.context)
    for user in users:
        check_may_act_for(call.hass, user.options, acting, user.extension)
    return users


def _user(hass: HomeAssistant, device_id: str) -> _User:
    """Return the PBX user of a device, or raise why an action cannot act for it."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise invalid("unknown_device", device_id=device_id)
    name = device.name_by_user or device.name or device_id
    if (found := find_user(hass, device.identifiers)) is None:
        raise invalid("not_a_user", device=name)
    entry, extension = found
    if entry.state is not ConfigEntryState.LOADED:
        raise invalid("entry_not_loaded", entry=entry.title)
    api: PbxApi | None = entry.runtime_data.pbx_api
    if api is None:
        raise invalid("no_pbx_connection", entry=entry.title)
    return _User(api, extension, name)


async def _act_for_each(
    users: list[_User], act: Callable[[_User], Awaitable[None]]
) -> None:
    """Act for every user at once, within ACTION_TIMEOUT in all; raise the first failure.

    Users whose request succeeded keep what was done when another one fails.
    """
    limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

    async def bounded(user: _User) -> None:
        async with limit:
            await act(user)

    try:
        async with asyncio.timeout(ACTION_TIMEOUT):
            results = await asyncio.gather(
                *(bounded(user) for user in users), return_exceptions=True
            )
    except TimeoutError as err:
        titles = ", ".join(sorted({user.entry_title for user in users}))
        raise failed("pbx_cannot_connect", entry=titles) from err
    failures: list[tuple[_User, Exception, Exception]] = []
    for user, result in zip(users, results, strict=True):
        if isinstance(result, PbxError):
            failures.append((user, result, user.api.refusal(result, user.name)))
        elif isinstance(result, ValueError):
            # An extension from events that the API cannot address (e.g. with `*`).
            refused = invalid("invalid_extension", extension=user.extension)
            failures.append((user, result, refused))
        elif isinstance(result, Exception):
            failures.append((user, result, result))
        elif isinstance(result, BaseException):
            raise result
    # The action's error tells of the first failure; the log of the others.
    for user, cause, _ in failures[1:]:
        _LOGGER.warning("Not done for %s either: %r", user.name, cause)
    if failures:
        raise failures[0][2]


async def _async_set_presence(call: ServiceCall) -> None:
    """Set the presence of one or more users."""
    # Each user once, however often the call lists them.
    users = list(dict.fromkeys(await _users(call, call.data[ATTR_DEVICE_ID])))
    status = PresenceStatus(call.data[ATTR_STATUS])
    message: str | None = call.data.get(ATTR_MESSAGE)
    until: datetime | None = call.data.get(ATTR_UNTIL)
    if until is not None:
        # A time without a zone is Home Assistant's local time.
        until = dt_util.as_utc(until)
        if until <= dt_util.utcnow():
            raise invalid(
                "until_in_past",
                until=dt_util.as_local(until).isoformat(sep=" ", timespec="minutes"),
            )

    async def set_presence(user: _User) -> None:
        await user.api.async_write_presence(user.extension, status, message, until)

    await _act_for_each(users, set_presence)
    # The model is not changed here: the PBX sends a presence event for the change,
    # which updates the entities the same way as a change made on a phone. Writing it
    # now would show a presence the PBX may still refuse or turn into something else.


async def _async_call(call: ServiceCall) -> None:
    """Ring a user's phone, then dial a number."""
    (user,) = await _users(call, [call.data[ATTR_DEVICE_ID]])
    try:
        number = normalize_number(call.data[ATTR_NUMBER])
    except ValueError as err:
        raise invalid("invalid_number", number=call.data[ATTR_NUMBER]) from err
    prefixes = dial_prefixes(user.options)
    # Internal numbers: the users with devices, and the directory's users the filter left out.
    internal = user.api.hub.model.users.keys() | user.api.book.colleagues.keys()
    if (refusal := dial_refusal(number, prefixes, internal)) is not None:
        raise invalid(
            refusal,
            number=call.data[ATTR_NUMBER],
            entry=user.entry_title,
            prefixes=", ".join(prefixes or ()),
        )

    async def place_call(user: _User) -> None:
        api = user.api
        if user.extension == await api.async_own_extension():
            # v1 originate rings the token's own user; present on every PBX seen (M/H).
            await api.async_originate(number)
            return
        if api.call_control is False:
            raise failed("call_unsupported", entry=user.entry_title, user=user.name)
        # A 404 is this call's error (the PBX may not know this user), never a sign
        # that call control is off for everyone.
        await api.async_make_call(user.extension, number)
        api.call_control = True

    await _act_for_each([user], place_call)


async def _async_hang_up(call: ServiceCall) -> None:
    """End the calls a user has in progress."""
    (user,) = await _users(call, [call.data[ATTR_DEVICE_ID]])

    async def hang_up(user: _User) -> None:
        api = user.api
        if api.call_control is False:
            raise failed("hang_up_unsupported", entry=user.entry_title)
        calls = await api.client.async_list_calls(user.extension)
        api.call_control = True
        # No call in progress is not an error: the user's phone is free, as asked.
        for active in calls:
            try:
                await api.client.async_hang_up(
                    active.sip_call_id, extension=user.extension
                )
            except PbxRouteMissingError:
                # A call that ended meanwhile is a 404 too (research: 10x-media).
                _LOGGER.debug("%s ended before it was hung up", active.sip_call_id)

    await _act_for_each([user], hang_up)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_PRESENCE, _async_set_presence, schema=SET_PRESENCE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_CALL, _async_call, schema=CALL_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_HANG_UP, _async_hang_up, schema=HANG_UP_SCHEMA
    )
    async_setup_call_log_services(hass)
