"""Assist intents: who is on the phone, missed calls, call, presence, voicemail.

Registered with Home Assistant's intent helper, so LLM agents see them as tools of the
Assist API and the built-in agent reaches them through the sentences of voice.py.
"""

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import config_validation as cv, entity_registry as er, intent
from homeassistant.util import dt as dt_util

from .call_log import LoggedCall
from .calls import PhoneState
from .const import DOMAIN
from .missed_calls import async_missed_calls
from .model import CallRecord
from .schema import vol
from .services import SERVICE_CALL, SERVICE_SET_PRESENCE
from .voice_speech import Phrase, Speech, VoiceRefusal, clock
from .voice_time import parse_time
from .voice_users import Person, async_check_may_act_for, everyone, me, named_or_me, one

INTENT_WHO_IS_ON_THE_PHONE = "WildixWhoIsOnThePhone"
INTENT_MISSED_CALLS = "WildixMissedCalls"
INTENT_CALL = "WildixCall"
INTENT_SET_PRESENCE = "WildixSetPresence"
INTENT_VOICEMAIL = "WildixVoicemail"

PRESENCE_STATUSES = ("available", "away", "dnd")
# How many of the last callers an answer names.
MAX_CALLERS = 3
# Attributes of the voicemail sensor that may name the last caller, most precise first.
VOICEMAIL_CALLER = ("last_caller", "caller", "remote_name", "remote_number")

_NAME = "name"
_WHO = "Name of a Wildix PBX user (as in Home Assistant); leave out for the speaker"


@dataclass(slots=True)
class Answer:
    """What an intent says, and the data an LLM agent gets with it."""

    phrases: list[Phrase]
    data: dict[str, Any] = field(default_factory=dict)


def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intents."""
    for handler in (
        WhoIsOnThePhoneIntent(),
        MissedCallsIntent(),
        CallIntent(),
        SetPresenceIntent(),
        VoicemailIntent(),
    ):
        intent.async_register(hass, handler)


class _WildixIntent(intent.IntentHandler):
    """An intent answered in the asker's language; refusals are spoken, not raised."""

    answer_type = intent.IntentResponseType.QUERY_ANSWER

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Validate the slots, answer, and speak the answer."""
        slots = self.async_validate_slots(intent_obj.slots)
        values = {key: slot["value"] for key, slot in slots.items()}
        speech = await Speech.async_load(intent_obj.hass, intent_obj.language)
        response = intent_obj.create_response()
        try:
            answer = await self.async_answer(intent_obj, values, speech)
        except VoiceRefusal as refusal:
            code = (
                intent.IntentResponseErrorCode.NO_VALID_TARGETS
                if refusal.phrase.key in ("voice_unknown_user", "voice_ambiguous")
                else intent.IntentResponseErrorCode.FAILED_TO_HANDLE
            )
            response.async_set_error(code, speech.phrase(refusal.phrase))
            return response
        except Unauthorized:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                speech.say("voice_not_allowed_action"),
            )
            return response
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE, speech.error(err)
            )
            return response
        response.response_type = self.answer_type
        response.async_set_speech(" ".join(speech.phrase(p) for p in answer.phrases))
        response.async_set_speech_slots(answer.data)
        return response

    @abstractmethod
    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Return the answer to the intent."""


def _party(person: Person, record: CallRecord | LoggedCall, speech: Speech) -> str:
    """Return how an answer names the other party of a call, privacy applied.

    Names first: a colleague's, the PBX's, a phonebook's; else the number.
    """
    if record.remote_local:
        colleague = person.hub.model.users.get(record.remote_number or "")
        if colleague is not None:
            return colleague.display_name
        return (
            record.remote_name or record.remote_number or speech.say("voice_colleague")
        )
    if person.hub.show_remote and (record.remote_name or record.remote_number):
        names = person.hub.call_history.names
        name = names.find(record.remote_number, record.remote_name, local=False)
        return name or record.remote_number or ""
    return speech.say("voice_outside_caller")


class WhoIsOnThePhoneIntent(_WildixIntent):
    """Who is talking or ringing now, or whether one user is."""

    intent_type = INTENT_WHO_IS_ON_THE_PHONE
    description = (
        "Tells who is on the phone now on the Wildix phone system (talking, on hold, "
        "dialing or ringing), with whom and since when; optionally for one user"
    )
    slot_schema = {vol.Optional(_NAME, description=_WHO): cv.string}

    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Describe every busy phone, or the named user's."""
        hass = intent_obj.hass
        if name := slots.get(_NAME):
            people = [one(hass, name)]
        else:
            people = everyone(hass)
        phrases: list[Phrase] = []
        calls: list[dict[str, Any]] = []
        for person in people:
            phone = person.user.phone()
            if phone.state is PhoneState.IDLE:
                continue
            entry: dict[str, Any] = {
                "name": person.name,
                "extension": person.extension,
                "state": phone.state.value,
                "ringing": phone.ringing,
            }
            placeholders: dict[str, str | int] = {"name": person.name}
            key = f"voice_{phone.state.value}"
            if phone.leg is None:
                key += "_line"
            else:
                record = phone.leg.record
                since = dt_util.utc_from_timestamp(record.started_ms / 1000)
                placeholders |= {
                    "party": _party(person, record, speech),
                    "time": clock(since),
                }
                entry |= {"party": placeholders["party"], "since": since.isoformat()}
            phrases.append(Phrase(key, placeholders))
            calls.append(entry)
        if not phrases:
            if name:
                return Answer([Phrase("voice_not_on_phone", {"name": people[0].name})])
            return Answer([Phrase("voice_nobody_on_phone")], {"calls": []})
        return Answer(phrases, {"calls": calls})


class MissedCallsIntent(_WildixIntent):
    """A user's missed calls today or since a time."""

    intent_type = INTENT_MISSED_CALLS
    description = (
        "Tells how many calls a Wildix user missed today (or since a time) and who "
        "the last callers were; without a name, the speaker's own missed calls"
    )
    slot_schema = {
        vol.Optional(_NAME, description=_WHO): cv.string,
        vol.Optional(
            "since", description="Start time, e.g. 09:00 or an ISO date and time"
        ): cv.string,
    }

    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Count the missed calls and name the last callers."""
        hass = intent_obj.hass
        person = named_or_me(hass, intent_obj.context, slots.get(_NAME))
        await async_check_may_act_for(hass, intent_obj.context, person)
        since = dt_util.start_of_local_day()
        if text := slots.get("since"):
            if (asked := parse_time(text, future=False)) is None:
                raise VoiceRefusal("voice_invalid_time", time=text)
            since = asked
        records = await async_missed_calls(person.hub, person.extension, since)
        callers = list(dict.fromkeys(_party(person, r, speech) for r in records))
        data = {
            "name": person.name,
            "extension": person.extension,
            "since": since.isoformat(),
            "count": len(records),
            "callers": callers,
        }
        placeholders: dict[str, str | int] = {
            "name": person.name,
            "since": clock(since),
            "count": len(records),
        }
        if not records:
            return Answer([Phrase("voice_no_missed_calls", placeholders)], data)
        placeholders["callers"] = ", ".join(callers[:MAX_CALLERS])
        return Answer([Phrase("voice_missed_calls", placeholders)], data)


class CallIntent(_WildixIntent):
    """Call a user or a number from the speaker's phone, through `wildix.call`."""

    answer_type = intent.IntentResponseType.ACTION_DONE

    intent_type = INTENT_CALL
    description = (
        "Calls a Wildix user by name, or a phone number, from the speaker's own "
        "Wildix phone (it rings first, then dials)"
    )
    slot_schema = {
        vol.Optional(_NAME, description="Name of the Wildix user to call"): cv.string,
        vol.Optional("number", description="Phone number to call"): cv.string,
    }

    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Ring the speaker's phone and dial the user's extension or the number."""
        hass = intent_obj.hass
        caller = me(hass, intent_obj.context)
        number: str
        if name := slots.get(_NAME):
            callee = one(hass, name)
            number, target = callee.extension, callee.name
        elif slots.get("number"):
            number = target = slots["number"]
        else:
            raise VoiceRefusal("voice_call_whom")
        await hass.services.async_call(
            DOMAIN,
            SERVICE_CALL,
            {"device_id": _device_id(caller), "number": number},
            blocking=True,
            context=intent_obj.context,
        )
        data = {"caller": caller.name, "number": number, "target": target}
        return Answer(
            [Phrase("voice_calling", {"name": caller.name, "target": target})], data
        )


class SetPresenceIntent(_WildixIntent):
    """Set the speaker's presence, or (for admins) another user's."""

    answer_type = intent.IntentResponseType.ACTION_DONE

    intent_type = INTENT_SET_PRESENCE
    description = (
        "Sets a Wildix user's presence (available, away or dnd = do not disturb), "
        "optionally until a time and with a message; without a name, the speaker's own"
    )
    slot_schema = {
        vol.Required("status", description="available, away or dnd"): vol.In(
            PRESENCE_STATUSES
        ),
        vol.Optional(_NAME, description=_WHO): cv.string,
        vol.Optional(
            "until", description="End time, e.g. 15:00 or an ISO date and time"
        ): cv.string,
        vol.Optional("message", description="Message shown to colleagues"): cv.string,
    }

    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Set the presence through `wildix.set_presence`."""
        hass = intent_obj.hass
        person = named_or_me(hass, intent_obj.context, slots.get(_NAME))
        await async_check_may_act_for(hass, intent_obj.context, person)
        status: str = slots["status"]
        data: dict[str, Any] = {
            "device_id": [_device_id(person)],
            "status": status,
        }
        if message := slots.get("message"):
            data["message"] = message
        placeholders: dict[str, str | int] = {
            "name": person.name,
            "status": speech.say(f"voice_status_{status}"),
        }
        key = "voice_presence_set"
        if text := slots.get("until"):
            if (until := parse_time(text, future=True)) is None:
                raise VoiceRefusal("voice_invalid_time", time=text)
            data["until"] = until
            placeholders["until"] = clock(until)
            key = "voice_presence_set_until"
        await hass.services.async_call(
            DOMAIN,
            SERVICE_SET_PRESENCE,
            data,
            blocking=True,
            context=intent_obj.context,
        )
        result = {"name": person.name, "status": status}
        if "until" in data:
            result["until"] = data["until"].isoformat()
        return Answer([Phrase(key, placeholders)], result)


class VoicemailIntent(_WildixIntent):
    """How many new voicemails a user has, and from whom (the voicemail sensor)."""

    intent_type = INTENT_VOICEMAIL
    description = (
        "Tells how many new voicemail messages a Wildix user has and who left the "
        "last one; without a name, the speaker's own"
    )
    slot_schema = {vol.Optional(_NAME, description=_WHO): cv.string}

    async def async_answer(
        self, intent_obj: intent.Intent, slots: dict[str, Any], speech: Speech
    ) -> Answer:
        """Read the user's voicemail sensor."""
        hass = intent_obj.hass
        person = named_or_me(hass, intent_obj.context, slots.get(_NAME))
        await async_check_may_act_for(hass, intent_obj.context, person)
        unique_id = f"{person.hub.entry.entry_id}_{person.extension}_voicemail"
        entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
        state = None if entity_id is None else hass.states.get(entity_id)
        try:
            count = int(float(state.state)) if state is not None else None
        except ValueError:
            count = None
        if state is None or count is None:
            raise VoiceRefusal("voice_voicemail_unavailable", name=person.name)
        data: dict[str, Any] = {"name": person.name, "count": count}
        if count == 0:
            return Answer([Phrase("voice_no_voicemail", {"name": person.name})], data)
        caller = next(
            (
                str(value)
                for key in VOICEMAIL_CALLER
                if (value := state.attributes.get(key))
            ),
            speech.say("voice_outside_caller"),
        )
        data["caller"] = caller
        placeholders: dict[str, str | int] = {
            "name": person.name,
            "count": count,
            "caller": caller,
        }
        return Answer([Phrase("voice_voicemail", placeholders)], data)


def _device_id(person: Person) -> str:
    """Return the device of a user, which the actions take."""
    device_id = person.hub.devices.user_device_id(person.extension)
    if device_id is None:
        raise VoiceRefusal("voice_unknown_user", name=person.name)
    return device_id
