"""PBX API: SIP registrations of every user (`/api/v1/PBX/Users/Sip/Registrations`)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .pbx_transport import (
    MAX_RECORDS,
    SEGMENT,
    PbxNotWildixError,
    PbxTransport,
    flag_field,
    text_field,
)

ROUTE_REGISTRATIONS = "/api/v1/PBX/Users/Sip/Registrations"  # M: 10x-media, 200 live


@dataclass(frozen=True, slots=True)
class SipRegistration:
    """One SIP device registered for a user."""

    online: bool
    user_agent: str | None
    contact: str | None
    received: str | None
    instance: str | None


@dataclass(frozen=True, slots=True)
class UserRegistrations:
    """The SIP registrations of one extension."""

    extension: str
    devices: tuple[SipRegistration, ...]

    @property
    def registered(self) -> bool:
        """Return True when at least one device is online."""
        return any(device.online for device in self.devices)

    @property
    def online_count(self) -> int:
        """Return the number of devices online."""
        return sum(device.online for device in self.devices)


class PbxRegistrations(PbxTransport):
    """The SIP registrations."""

    async def async_get_registrations(self) -> dict[str, UserRegistrations]:
        """Return the SIP registrations of every user, in one request, by extension.

        Shape (M: 10x-media, 200 live): `result{"<ext>": {registrations: [{online: "1",
        contact, received, instance, useragent}]}}`. An extension left out has no
        registered device.
        """
        path = ROUTE_REGISTRATIONS
        result = await self._result("GET", path)
        if isinstance(result, list) and not result:
            # PHP encodes an empty associative array as [].
            return {}
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{path}: result is not an object")
        users: dict[str, UserRegistrations] = {}
        for extension, entry in list(result.items())[:MAX_RECORDS]:
            if not SEGMENT.fullmatch(extension):
                self._deviation(path, "a key that is not an extension")
                continue
            if isinstance(entry, dict):
                devices = entry.get("registrations")
            else:
                devices = entry
                self._deviation(path, "registrations not wrapped in {registrations}")
            if not isinstance(devices, list):
                self._deviation(path, f"no registrations list for {extension}")
                devices = []
            users[extension] = UserRegistrations(
                extension,
                tuple(
                    self._registration(device)
                    for device in devices[:64]
                    if isinstance(device, dict)
                ),
            )
        return users

    def _registration(self, device: Mapping[str, Any]) -> SipRegistration:
        """Return one registered device."""
        agent = device.get("useragent")
        if agent is None:
            for key in ("userAgent", "user_agent"):
                if key in device:
                    self._deviation(ROUTE_REGISTRATIONS, f"user agent under `{key}`")
                    agent = device[key]
        if "online" not in device:
            # A device listed without the flag is registered.
            self._deviation(ROUTE_REGISTRATIONS, "a device without `online`")
        return SipRegistration(
            online=flag_field(device.get("online", True)),
            user_agent=text_field(agent),
            contact=text_field(device.get("contact")),
            received=text_field(device.get("received")),
            instance=text_field(device.get("instance")),
        )
