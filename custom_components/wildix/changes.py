"""What applying one event changed: the contract between the model and the hub.

No Home Assistant imports.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from .protocol import Attachment, Direction


class Aspect(StrEnum):
    """What part of a user an event changed, so only entities showing it update."""

    IDENTITY = "identity"  # name, email, department, group, user_id (device data)
    PRESENCE = "presence"  # presence status, message, until, location
    PHONE = "phone"  # phone state, ringing, the call shown, telephony status
    # Whether the phone rings, and whether the user is on a call: the parts of
    # PHONE the ringing and on-call sensors show, each signalled by the hub only
    # when it changed.
    RINGING = "ringing"
    ON_CALL = "on_call"
    # The call the phone shows and its other party: the part of PHONE the call log
    # calendar shows, signalled by the hub only when it changed.
    CURRENT_CALL = "current_call"
    LAST_CALL = "last_call"  # the record of the user's last call
    MISSED_CALLS = "missed_calls"  # the missed-call count


class PbxAspect(StrEnum):
    """What part of the PBX an event changed."""

    DEVICE = "device"  # the serial number (device data)
    ACTIVE_CALLS = "active_calls"  # the calls in progress
    LAST_EVENT = "last_event"  # when the last event arrived, to the second


class MomentType(StrEnum):
    """Moments of a call that automations react to."""

    INCOMING_CALL = "incoming_call"
    OUTGOING_CALL = "outgoing_call"
    CALL_ANSWERED = "call_answered"
    MISSED_CALL = "missed_call"
    CALL_ENDED = "call_ended"
    VOICEMAIL = "voicemail"


@dataclass(frozen=True, slots=True)
class CallMoment:
    """Something that happened to one user's side of a call."""

    type: MomentType
    extension: str
    call_id: str
    direction: Direction
    remote_number: str | None
    remote_name: str | None
    remote_local: bool
    time_ms: int
    duration: float | None = None
    missed: bool | None = None
    attachments: tuple[Attachment, ...] = ()
    # Where Home Assistant plays the file of the moment (a voicemail's media id).
    media_content_id: str | None = None


@dataclass(slots=True)
class Changes:
    """What one event or expiry changed; nothing a user shows is reported unchanged."""

    users: dict[str, set[Aspect]] = field(default_factory=dict)
    new_users: list[str] = field(default_factory=list)
    pbx: set[PbxAspect] = field(default_factory=set)
    moments: list[CallMoment] = field(default_factory=list)
    users_refused: bool = False
    clock_ahead: bool = False

    def __bool__(self) -> bool:
        """Tell whether anything that is shown or saved changed."""
        return bool(self.users or self.new_users or self.pbx or self.moments)

    def touch(self, extension: str, aspect: Aspect) -> None:
        """Record that one aspect of a user changed."""
        if (aspects := self.users.get(extension)) is None:
            self.users[extension] = {aspect}
        else:
            aspects.add(aspect)

    def add_moment(self, moment: CallMoment | None) -> None:
        """Add a moment, if there is one."""
        if moment is not None:
            self.moments.append(moment)
