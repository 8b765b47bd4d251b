"""The simulated PBX: its users and calls, and the Wildix events each change produces.

Payload shapes follow the published Wildix examples: the legacy `call:start|update|end`
family, the `call:live:*` family with its `flows`, the `call:completed` analytics record,
and `presence:user` / `presence:telephony`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import random
from typing import Any

Payload = dict[str, Any]

COMPANY = "de_w204518"
PBX_SERIAL = "2211000a7c3e"
INTEGRATION_ID = "k3v9tq"
# Where the simulated PBX serves its files (the demo points it at its fake PBX).
MEDIA_URL = "https://pbx.example.com"
COMPANY_NUMBER = "+4930555099000"
TRUNK = "SIPTRUNK-DE"
GROUP_ID = "5512001"
GROUP_NAME = "Office"

DEFAULT_USERS = "201:Alice Example,202:Bob Example,203:Carol Example,204:Dave Example"

_DEPARTMENTS = ("Support", "Sales", "Support", "Accounts", "Sales", "Management")
_DEVICES = (
    ("XBEES_WEB", "x-bees Web 1.92.3.1001234", "business"),
    ("WILDIX_PHONE", "Wildix WP480G 6.7.12", "premium"),
    ("COLLABORATION_WEB", "Wildix Collaboration 7.02.1 WebRTC", "business"),
    ("XBEES_ANDROID", "x-bees Android 1.92.3", "business"),
)
_CONTACTS = (
    "Maria Rossi",
    "Jonas Weber",
    "Sofia Bianchi",
    "Lukas Fischer",
    "Emma Martin",
    "Noah Schmidt",
)
_AREA_CODES = ("30", "40", "89", "221", "69", "711")


class Family(StrEnum):
    """Which call event families Wildix is set up to send."""

    LEGACY = "legacy"
    LIVE = "live"


class Telephony(StrEnum):
    """The telephony presence values Wildix documents."""

    REGISTERED = "registered"
    RINGING = "ringing"
    TALKING = "talking"
    RINGING_WHILE_TALKING = "rt"


@dataclass(frozen=True, slots=True)
class User:
    """A PBX user."""

    extension: str
    name: str
    email: str
    user_id: str
    department: str
    device: str
    agent: str
    license: str


@dataclass(frozen=True, slots=True)
class Remote:
    """Someone outside the PBX."""

    phone: str
    name: str


Party = User | Remote


def parse_users(text: str) -> list[User]:
    """Parse `201:Alice Example,202:Bob Example` into users."""
    users: list[User] = []
    for position, item in enumerate(part.strip() for part in text.split(",")):
        if not item:
            continue
        extension, _, name = item.partition(":")
        extension, name = extension.strip(), name.strip() or f"User {extension.strip()}"
        if not extension.isdigit():
            raise ValueError(f"'{item}' is not EXTENSION:NAME with a numeric extension")
        if any(user.extension == extension for user in users):
            raise ValueError(f"extension {extension} is listed twice")
        device, agent, license_tier = _DEVICES[position % len(_DEVICES)]
        local_part = (
            "".join(c for c in name.split()[0].lower() if c.isalnum()) or extension
        )
        users.append(
            User(
                extension=extension,
                name=name,
                email=f"{local_part}@example.com",
                user_id=f"4401{extension}",
                department=_DEPARTMENTS[position % len(_DEPARTMENTS)],
                device=device,
                agent=agent,
                license=license_tier,
            )
        )
    if not users:
        raise ValueError("no users given")
    return users


def iso(epoch_ms: int) -> str:
    """Return epoch milliseconds as the ISO-8601 UTC text Wildix uses."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def legacy_party(party: Party | None, *, device_known: bool = True) -> Payload | None:
    """Return a participant of the legacy call events."""
    if party is None:
        return None
    if isinstance(party, Remote):
        return {
            "type": "REMOTE",
            "phone": party.phone,
            "name": party.name,
            "company": None,
            "email": None,
            "userId": None,
            "userExtension": None,
            "userDepartment": None,
            "groupId": None,
            "groupName": None,
            "userAgent": None,
            "userDevice": None,
        }
    return {
        "type": "LOCAL",
        "phone": party.extension,
        "name": party.name,
        "company": None,
        "email": party.email,
        "userId": party.user_id,
        "userExtension": party.extension,
        "userDepartment": party.department,
        "groupId": GROUP_ID,
        "groupName": GROUP_NAME,
        "userAgent": party.agent if device_known else None,
        "userDevice": party.device if device_known else None,
    }


def live_party(party: Party) -> Payload:
    """Return a participant of the live and analytics call events."""
    if isinstance(party, Remote):
        return {
            "type": "REMOTE",
            "phone": party.phone,
            "name": party.name,
            "role": "CLIENT",
        }
    return {
        "type": "LOCAL",
        "phone": party.extension,
        "name": party.name,
        "email": party.email,
        "userId": party.user_id,
        "userExtension": party.extension,
        "userDepartment": party.department,
        "groupId": GROUP_ID,
        "groupName": GROUP_NAME,
        "userAgent": party.agent,
        "userDevice": party.device,
        "role": "AGENT",
        "license": party.license,
    }


@dataclass(slots=True)
class Flow:
    """One leg of a call, with the timers Wildix reports."""

    index: int
    caller: Party
    callee: Party | None
    direction: str
    destination: str
    remote_phone: str
    start_ms: int
    ring_ms: int | None = None
    answer_ms: int | None = None
    end_ms: int | None = None
    status: str = "CONNECTING"

    def timers(self, now_ms: int) -> Payload:
        """Return duration, connectTime, talkTime and waitTime in ms at a moment."""
        until = now_ms if self.end_ms is None else self.end_ms
        if self.answer_ms is None:
            wait, connect, talk = until - self.start_ms, 0, 0
        else:
            ring = self.start_ms if self.ring_ms is None else self.ring_ms
            wait = ring - self.start_ms
            connect = self.answer_ms - ring
            talk = until - self.answer_ms
        return {
            "duration": wait + connect + talk,
            "connectTime": connect,
            "talkTime": talk,
            "waitTime": wait,
        }

    def local_users(self) -> list[User]:
        """Return the PBX users on this leg."""
        return [p for p in (self.caller, self.callee) if isinstance(p, User)]


@dataclass(frozen=True, slots=True)
class EndCause:
    """Why a call ended, as Wildix reports it (Q.850 cause, text, side)."""

    code: str | None
    text: str | None
    by: str | None


NORMAL_CLEARING = EndCause("16", "Normal Clearing", "CALLER")
HUNG_UP_BY_CALLEE = EndCause("16", "Normal Clearing", "CALLEE")
NO_ANSWER = EndCause("19", "User alerting, no answer", "CALLER")
REJECTED = EndCause("21", "Call Rejected", "CALLEE")
INTERRUPTED = EndCause(None, None, None)


@dataclass(slots=True)
class Call:
    """A call in progress on the simulated PBX."""

    call_id: str
    start_ms: int
    flows: list[Flow]
    service: str | None
    trunk: str | None
    ended: bool = False

    @property
    def flow(self) -> Flow:
        """Return the newest leg, the one the legacy events describe."""
        return self.flows[-1]


@dataclass(slots=True)
class _Line:
    """What one user's phone line is doing, for telephony presence."""

    ringing: set[str] = field(default_factory=set)
    talking: set[str] = field(default_factory=set)
    reported: Telephony | None = None

    def status(self) -> Telephony:
        if self.talking and self.ringing:
            return Telephony.RINGING_WHILE_TALKING
        if self.talking:
            return Telephony.TALKING
        if self.ringing:
            return Telephony.RINGING
        return Telephony.REGISTERED


class Office:
    """The simulated PBX: turns what happens to calls and users into Wildix events."""

    def __init__(
        self,
        users: list[User],
        rng: random.Random,
        *,
        families: Iterable[Family] = (Family.LEGACY, Family.LIVE),
        telephony: bool = True,
        company: str = COMPANY,
        pbx: str = PBX_SERIAL,
        integration_id: str = INTEGRATION_ID,
        media_url: str = MEDIA_URL,
    ) -> None:
        """Initialise a PBX with its users; `media_url` serves its voicemail files."""
        self.users = users
        self.rng = rng
        self.families = frozenset(families)
        self.telephony = telephony
        self.company = company
        self.pbx = pbx
        self.integration_id = integration_id
        self.media_url = media_url.rstrip("/")
        self.calls: dict[str, Call] = {}
        self._sequence = rng.randrange(1000, 9000)
        self._lines = {user.extension: _Line() for user in users}

    # Who is free

    def busy(self, user: User) -> bool:
        """Tell whether a user is in a call (ringing or talking)."""
        line = self._lines[user.extension]
        return bool(line.ringing or line.talking)

    def idle_users(self, *, excluding: Iterable[User] = ()) -> list[User]:
        """Return the users not in any call."""
        skip = {user.extension for user in excluding}
        return [u for u in self.users if not self.busy(u) and u.extension not in skip]

    def remote(self) -> Remote:
        """Return a made-up outside party (numbers in the fictional 555 range)."""
        area = self.rng.choice(_AREA_CODES)
        phone = f"+49{area}555{self.rng.randrange(100000, 999999)}"
        if self.rng.random() < 0.4:
            return Remote(phone, self.rng.choice(_CONTACTS))
        return Remote(phone, phone)

    # Envelopes

    def _envelope(
        self, event_type: str, event_id: str, now_ms: int, data: Payload
    ) -> Payload:
        if event_type in ("call:start", "call:update", "call:end"):
            return {
                "id": event_id,
                "pbx": self.pbx,
                "time": now_ms,
                "company": self.company,
                "type": event_type,
                "integrationId": self.integration_id,
                "data": data,
            }
        return {
            "id": event_id,
            "pbx": self.pbx,
            "company": self.company,
            "time": now_ms,
            "type": event_type,
            "integrationId": self.integration_id,
            "data": data,
        }

    # Presence

    def presence(
        self,
        user: User,
        now_ms: int,
        status: str,
        *,
        message: str = "",
        until_minutes: int | None = None,
        location: tuple[str, str, str] | None = None,
    ) -> list[Payload]:
        """Return the `presence:user` event of a user changing their presence."""
        until = ""
        if until_minutes is not None:
            moment = datetime.fromtimestamp(now_ms / 1000, UTC) + timedelta(
                minutes=until_minutes
            )
            until = moment.replace(second=0, microsecond=0).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        address, lat, lng = location or ("", "", "")
        data = {
            "extension": user.extension,
            "email": user.email,
            "sourceId": "",
            "status": status,
            "until": until,
            "message": message,
            "location": {"address": address, "lat": lat, "lng": lng},
        }
        return [
            self._envelope(
                "presence:user", f"{self.company}_{user.extension}", now_ms, data
            )
        ]

    def _telephony(self, now_ms: int, users: Iterable[User]) -> list[Payload]:
        events: list[Payload] = []
        if not self.telephony:
            return events
        for user in users:
            line = self._lines[user.extension]
            status = line.status()
            if status == line.reported:
                continue
            line.reported = status
            moment = now_ms + 50 + len(events)
            data = {
                "extension": user.extension,
                "email": user.email,
                "sourceId": "",
                "status": status.value,
            }
            event_id = f"{self.company}_{moment - 1}_{user.extension}"
            events.append(self._envelope("presence:telephony", event_id, moment, data))
        return events

    # Calls

    def new_call(
        self,
        now_ms: int,
        caller: Party,
        destination: str,
        direction: str,
        remote_phone: str,
    ) -> Call:
        """Create a call; nothing is sent until it starts."""
        self._sequence += 1
        call_id = f"{self.company}_{now_ms // 1000}.{self._sequence}"
        external = direction != "INTERNAL"
        call = Call(
            call_id=call_id,
            start_ms=now_ms,
            flows=[
                Flow(
                    index=0,
                    caller=caller,
                    callee=None,
                    direction=direction,
                    destination=destination,
                    remote_phone=remote_phone,
                    start_ms=now_ms,
                )
            ],
            service="Reception" if direction == "INBOUND" else None,
            trunk=TRUNK if external else None,
        )
        self.calls[call_id] = call
        return call

    def start(self, call: Call, now_ms: int) -> list[Payload]:
        """Start a call: only the caller is known yet."""
        flow = call.flow
        if isinstance(flow.caller, User):
            self._lines[flow.caller.extension].talking.add(call.call_id)
        events = self._legacy(call, "call:start", now_ms)
        events += self._live(call, "call:live:progress", "call.start", now_ms + 40)
        return events + self._telephony(now_ms, flow.local_users())

    def ring(self, call: Call, now_ms: int, callee: Party) -> list[Payload]:
        """Ring the callee, who is now known."""
        flow = call.flow
        flow.callee = callee
        flow.ring_ms = now_ms
        if isinstance(callee, User):
            self._lines[callee.extension].ringing.add(call.call_id)
        events = self._legacy(call, "call:update", now_ms, device_known=False)
        events += self._live(call, "call:live:progress", "call.update", now_ms + 40)
        return events + self._telephony(now_ms, flow.local_users())

    def answer(self, call: Call, now_ms: int) -> list[Payload]:
        """Let the callee pick up."""
        flow = call.flow
        flow.answer_ms = now_ms
        flow.status = "TALKING"
        if isinstance(flow.callee, User):
            line = self._lines[flow.callee.extension]
            line.ringing.discard(call.call_id)
            line.talking.add(call.call_id)
        events = self._legacy(call, "call:update", now_ms)
        events += self._live(call, "call:live:progress", "call.update", now_ms + 40)
        return events + self._telephony(now_ms, flow.local_users())

    def hold(self, call: Call, now_ms: int, *, held: bool) -> list[Payload]:
        """Put the call on hold, or take it off hold."""
        call.flow.status = "HOLD" if held else "TALKING"
        events = self._legacy(call, "call:update", now_ms)
        return events + self._live(
            call, "call:live:progress", "call.update", now_ms + 40
        )

    def transfer(self, call: Call, now_ms: int, target: User) -> list[Payload]:
        """Hand the caller over from the answering user to another one (a new flow)."""
        old = call.flow
        old.end_ms = now_ms
        left = old.local_users()
        for user in left:
            if user is not old.caller:
                self._lines[user.extension].talking.discard(call.call_id)
        new = Flow(
            index=old.index + 1,
            caller=old.caller,
            callee=target,
            direction=old.direction,
            destination=target.extension,
            remote_phone=old.remote_phone,
            start_ms=now_ms,
            ring_ms=now_ms,
        )
        call.flows.append(new)
        self._lines[target.extension].ringing.add(call.call_id)
        events = self._legacy(call, "call:update", now_ms, device_known=False)
        events += self._live(call, "call:live:progress", "call.update", now_ms + 40)
        return events + self._telephony(now_ms, [*left, target])

    def hang_up(
        self, call: Call, now_ms: int, cause: EndCause, *, interrupted: bool = False
    ) -> list[Payload]:
        """End the call; the live family reports a break as interrupted."""
        if call.ended:
            return []
        call.ended = True
        for flow in call.flows:
            if flow.end_ms is None:
                flow.end_ms = now_ms
        users = {u.extension: u for flow in call.flows for u in flow.local_users()}
        for extension in users:
            self._lines[extension].ringing.discard(call.call_id)
            self._lines[extension].talking.discard(call.call_id)
        self.calls.pop(call.call_id, None)
        events = self._legacy(call, "call:end", now_ms, cause=cause)
        live_type = "call:live:interrupted" if interrupted else "call:live:completed"
        events += self._live(call, live_type, "call.end", now_ms + 40, cause=cause)
        return events + self._telephony(now_ms, users.values())

    def voicemail_url(self, call: Call, extension: str) -> str:
        """Return where the PBX keeps the voicemail a call left for a user (§5 shape)."""
        epoch = call.flows[0].start_ms // 1000
        number = call.call_id.rsplit(".", 1)[-1][-4:].zfill(4)
        return (
            f"{self.media_url}/spoolview/voicemail/{self.company}/{extension}"
            f"/INBOX/msg{epoch}-{number}.mp3"
        )

    def completed(
        self, call: Call, now_ms: int, cause: EndCause, *, voicemail: bool = False
    ) -> list[Payload]:
        """Report the stored call record: the analytics `call:completed` event.

        With `voicemail`, the unanswered flows to users left a voicemail: `flags` holds
        `voicemail` and `attachments` the nested `{"voicemail": {...}}` element.
        """
        if Family.LIVE not in self.families:
            return []
        flows: list[Payload] = []
        for flow in call.flows:
            timers = flow.timers(now_ms)
            inbound = flow.direction == "INBOUND"
            record: Payload = {
                "flowIndex": flow.index,
                "startTime": flow.start_ms,
                "endTime": flow.end_ms,
                **timers,
                "caller": live_party(flow.caller),
            }
            if flow.callee is not None:
                record["callee"] = live_party(flow.callee)
            caller_number = (
                flow.caller.extension
                if isinstance(flow.caller, User)
                else flow.caller.phone
            )
            record |= {
                "serviceNumber": COMPANY_NUMBER if inbound else caller_number,
                "destination": flow.destination,
                "direction": flow.direction,
            }
            if call.trunk is not None:
                record |= {
                    "trunkName": call.trunk,
                    "trunkDirection": "incoming" if inbound else "outgoing",
                    "tags": ["External"],
                }
            else:
                record["tags"] = ["Internal"]
            record |= {
                "remotePhone": flow.remote_phone,
                "callStatus": "COMPLETED" if flow.answer_ms is not None else "MISSED",
            }
            if voicemail and flow.answer_ms is None and isinstance(flow.callee, User):
                record["flags"] = ["voicemail"]
                record["attachments"] = [
                    {
                        "voicemail": {
                            "url": self.voicemail_url(call, flow.callee.extension),
                            "owner": "callee",
                            "destinations": [{"email": flow.callee.email}],
                        }
                    }
                ]
            flows.append(record)
        data: Payload = {
            "id": call.call_id,
            "pbx": self.pbx,
            "time": now_ms - 130,
            "company": self.company,
            "licenses": ["x-bees"],
            "type": "call",
            "flows": flows,
            "endCause": cause.code,
            "endCauseStr": cause.text,
            "endBy": cause.by,
        }
        return [self._envelope("call:completed", call.call_id, now_ms, data)]

    def _legacy(
        self,
        call: Call,
        event_type: str,
        now_ms: int,
        *,
        device_known: bool = True,
        cause: EndCause | None = None,
    ) -> list[Payload]:
        if Family.LEGACY not in self.families:
            return []
        flow = call.flow
        answered = flow.answer_ms is not None
        # A dialled outside number shows its trunk once the other end is reached.
        trunk = call.trunk
        if flow.direction == "OUTBOUND" and flow.callee is None:
            trunk = None
        data: Payload = {
            "status": flow.status,
            "caller": legacy_party(flow.caller),
            "callee": legacy_party(flow.callee, device_known=device_known or answered),
            "service": call.service,
            "destination": flow.destination,
            "trunkName": trunk,
            "queueName": None,
            "queueId": None,
            "tags": [],
            "flags": [],
            "endCause": None if cause is None else cause.code,
            "endCauseStr": None if cause is None else cause.text,
            "endBy": None if cause is None else cause.by,
        }
        return [self._envelope(event_type, call.call_id, now_ms, data)]

    def _live(
        self,
        call: Call,
        event_type: str,
        trigger: str,
        now_ms: int,
        *,
        cause: EndCause | None = None,
    ) -> list[Payload]:
        if Family.LIVE not in self.families:
            return []
        flows: list[Payload] = []
        for flow in call.flows:
            item: Payload = {"flowIndex": flow.index, **flow.timers(now_ms - 35)}
            item["caller"] = live_party(flow.caller)
            if flow.callee is not None:
                item["callee"] = live_party(flow.callee)
            item |= {
                "destination": flow.destination,
                "direction": flow.direction,
                "remotePhone": flow.remote_phone,
                "status": flow.status,
            }
            flows.append(item)
        data: Payload = {
            "id": call.call_id,
            "pbx": self.pbx,
            "time": now_ms - 35,
            "company": self.company,
            "licenses": ["x-bees"],
            "event": "call",
            "eventTrigger": trigger,
            "start": iso(call.start_ms),
            "flows": flows,
        }
        if cause is not None:
            data |= {
                "endCause": cause.code,
                "endCauseStr": cause.text,
                "endBy": cause.by,
            }
        return [self._envelope(event_type, call.call_id, now_ms, data)]
