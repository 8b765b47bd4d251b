"""The PBX API's directory and phone registrations, merged with what events tell.

No Home Assistant imports. One source of truth per fact:
- a user's name, email and department: the directory wins (it is the PBX's own record);
  events fill them in only for users the directory does not list;
- role and licence: the directory alone;
- whether a phone is registered: the newer of the last poll and the user's last
  telephony presence event (an event shows a device at once, between polls; the next
  poll is the truth again, since no event says when a device unregisters).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .changes import Aspect, Changes
from .model import PbxModel, User
from .pbx_directory import Colleague
from .pbx_registrations import UserRegistrations
from .protocol import TelephonyStatus, is_extension

# Telephony states that only a registered device can be in.
_DEVICE_PRESENT = frozenset(status.value for status in TelephonyStatus)


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registration sensor of a user shows."""

    registered: bool
    devices: int
    user_agents: tuple[str, ...]


def identify(user: User, colleague: Colleague) -> bool:
    """Give a user the directory's name, email and department; return whether any changed."""
    changed = False
    for attribute, value in (
        ("name", colleague.name),
        ("email", colleague.email),
        ("department", colleague.department),
    ):
        if value and getattr(user, attribute) != value:
            setattr(user, attribute, value)
            changed = True
    return changed


class DirectoryBook:
    """The directory and registrations last read from the PBX API."""

    def __init__(self) -> None:
        """Start knowing nothing."""
        self.colleagues: dict[str, Colleague] = {}
        # None until a poll answered; then extension -> registrations.
        self.registrations: dict[str, UserRegistrations] | None = None
        # When the registrations were read, in epoch milliseconds.
        self.registrations_ms = -1

    def apply_directory(
        self, model: PbxModel, colleagues: Iterable[Colleague], *, complete: bool
    ) -> tuple[Changes, list[str]]:
        """Take a new directory: add and name its users; return changes and users gone.

        Users the filter excludes or the user limit has no room for are left out, as
        for events. Only users an earlier complete directory listed are removed: a
        user known from events alone may live on another PBX of the same company.
        """
        listed = {c.extension: c for c in colleagues if is_extension(c.extension)}
        changes = Changes()
        for extension, colleague in listed.items():
            user = model.users.get(extension)
            if user is None:
                if not model.tracks(extension):
                    continue
                if len(model.users) >= model.max_users:
                    changes.users_refused = True
                    continue
                user = model.users[extension] = User(extension)
                changes.new_users.append(extension)
                changes.touch(extension, Aspect.IDENTITY)
            if identify(user, colleague):
                changes.touch(extension, Aspect.IDENTITY)
        gone = (
            [ext for ext in self.colleagues if ext not in listed and ext in model.users]
            if complete
            else []
        )
        self.colleagues = listed if complete else {**self.colleagues, **listed}
        return changes, gone

    def reconcile(self, model: PbxModel, extensions: Iterable[str]) -> None:
        """Give users an event renamed their directory identity back (the directory wins)."""
        for extension in extensions:
            colleague = self.colleagues.get(extension)
            user = model.users.get(extension)
            if colleague is not None and user is not None:
                identify(user, colleague)

    def set_registrations(
        self, registrations: Mapping[str, UserRegistrations], now_ms: int
    ) -> None:
        """Take the registrations of every user, read at `now_ms`."""
        self.registrations = dict(registrations)
        self.registrations_ms = now_ms

    def registration(self, extension: str, user: User | None) -> Registration | None:
        """Return a user's registration, None when neither poll nor event tells."""
        polled = (
            None if self.registrations is None else self.registrations.get(extension)
        )
        if (
            user is not None
            and user.telephony in _DEVICE_PRESENT
            and user.telephony_ms > self.registrations_ms
        ):
            # A telephony event newer than the poll: some device is registered.
            devices = max(1, 0 if polled is None else polled.online_count)
            return Registration(True, devices, _agents(polled))
        if self.registrations is None:
            return None
        if polled is None:
            return Registration(False, 0, ())
        return Registration(polled.registered, polled.online_count, _agents(polled))


def _agents(registrations: UserRegistrations | None) -> tuple[str, ...]:
    """Return the user agents of the online devices."""
    if registrations is None:
        return ()
    return tuple(
        device.user_agent
        for device in registrations.devices
        if device.online and device.user_agent
    )
