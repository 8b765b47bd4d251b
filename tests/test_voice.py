"""Assist: the built-in agent's sentences and the LLM tools reach the Wildix intents."""

import dataclasses
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    intent,
    llm,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.wildix.const import CONF_SHOW_REMOTE, DOMAIN

from .calls import BUSY_MORNING, INBOUND_MISSED
from .common import ENTRY_ID, WildixSender, add_entry, entry_data
from .fake_pbx import FakePbx
from .test_call_log import alice_calls_back
from .test_call_log_pbx import cdr

INTENTS = {
    "WildixWhoIsOnThePhone",
    "WildixMissedCalls",
    "WildixCall",
    "WildixSetPresence",
    "WildixVoicemail",
}


@pytest.fixture(autouse=True)
async def assist(hass: HomeAssistant) -> None:
    """Set up the built-in conversation agent, in a time zone of the fixtures' office."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})


def link(
    hass: HomeAssistant, entry: MockConfigEntry, user: MockUser, extension: str
) -> None:
    """Link a Home Assistant user's person to a PBX user (the option `people`)."""
    person = f"person.{extension}"
    hass.states.async_set(person, "home", {"user_id": user.id})
    people = {**entry.options.get("people", {}), person: extension}
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "people": people}
    )


async def ask(
    hass: HomeAssistant, text: str, language: str = "en", user: MockUser | None = None
) -> str:
    """Say a sentence to the built-in agent; return its spoken answer."""
    result = await conversation.async_converse(
        hass,
        text,
        None,
        Context(user_id=None if user is None else user.id),
        language=language,
    )
    speech: str = result.response.speech["plain"]["speech"]
    return speech


WHO_IS_ON_THE_PHONE = {
    "en": (
        "Who is on the phone?",
        (
            "Bob Example is on a call with an outside caller since 10:20. "
            "Carol Example is calling Bob Example."
        ),
    ),
    "it": (
        "Chi è al telefono?",
        (
            "Bob Example è al telefono con un chiamante esterno dalle 10:20. "
            "Carol Example sta chiamando Bob Example."
        ),
    ),
    "de": (
        "Wer telefoniert gerade?",
        (
            "Bob Example telefoniert seit 10:20 mit einem externen Anrufer. "
            "Carol Example baut einen Anruf zu Bob Example auf."
        ),
    ),
    "fr": (
        "Qui est au téléphone ?",
        (
            "Bob Example est en ligne avec un correspondant externe depuis 10:20. "
            "Carol Example appelle Bob Example."
        ),
    ),
}


def hide_outside_parties(hass: HomeAssistant) -> None:
    """Turn the option "show outside parties' numbers and names" off."""
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SHOW_REMOTE: False}
    )


@pytest.mark.parametrize("language", sorted(WHO_IS_ON_THE_PHONE))
async def test_who_is_on_the_phone(
    hass: HomeAssistant, wildix: WildixSender, language: str
) -> None:
    """Everyone busy, in the asker's language; the hidden outside caller stays hidden."""
    await wildix.post_all(*BUSY_MORNING)
    hide_outside_parties(hass)
    await hass.async_block_till_done()
    sentence, answer = WHO_IS_ON_THE_PHONE[language]
    assert await ask(hass, sentence, language) == answer


async def test_outside_parties_shown_when_the_option_is_on(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """With outside parties shown, the answer names the number like the sensors do."""
    await wildix.post_all(*BUSY_MORNING)
    assert await ask(hass, "is bob on the phone") == (
        "Bob Example is on a call with +4989555123456 since 10:20."
    )


async def test_names_are_matched_like_entity_names(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Case, accents and the start of a name match; two matches get a question back."""
    await wildix.post_all(*BUSY_MORNING)
    assert await ask(hass, "Is CÁROL on the phone") == (
        "Carol Example is calling Bob Example."
    )
    assert await ask(hass, "ist alice example am Telefon", "de") == (
        "Alice Example telefoniert gerade nicht."
    )
    assert await ask(hass, "is example on the phone") == (
        "Several people match example: Alice Example, Bob Example, Carol Example. "
        "Which one do you mean?"
    )
    # The name given to the user's device in Home Assistant is a name too.
    registry = dr.async_get(hass)
    bob = next(
        device
        for device in dr.async_entries_for_config_entry(registry, ENTRY_ID)
        if (DOMAIN, f"{ENTRY_ID}_202") in device.identifiers
    )
    registry.async_update_device(bob.id, name_by_user="Roberto Ávila")
    assert await ask(hass, "Is Roberto on the phone?") == (
        "Bob Example is on a call with +4989555123456 since 10:20."
    )
    assert await ask(hass, "est-ce que noor est au téléphone", "fr") == (
        "Je ne connais personne nommé noor sur le standard."
    )


async def test_nobody_on_the_phone(hass: HomeAssistant, wildix: WildixSender) -> None:
    """Without calls the answer says so."""
    assert await ask(hass, "who is on the phone") == "Nobody is on the phone."


def entry_of(hass: HomeAssistant) -> MockConfigEntry:
    """Return the test entry."""
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert isinstance(entry, MockConfigEntry)
    return entry


async def test_missed_calls_of_the_speaker(
    hass: HomeAssistant, wildix: WildixSender, hass_admin_user: MockUser
) -> None:
    """Who called "me": the missed calls of the user linked to the speaker's person."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    await wildix.post_all(*BUSY_MORNING)
    link(hass, entry_of(hass), alice, "201")
    assert await ask(hass, "Who called me?", user=alice) == (
        "Missed calls for Alice Example since 00:00: 1. Last from: +4940555777888."
    )
    assert await ask(hass, "Chi mi ha chiamato?", "it", user=alice) == (
        "Chiamate perse di Alice Example dalle 00:00: 1. Ultime da: +4940555777888."
    )
    hide_outside_parties(hass)
    await hass.async_block_till_done()
    assert await ask(hass, "wer hat mich angerufen", "de", user=alice) == (
        "Verpasste Anrufe für Alice Example seit 00:00: 1. "
        "Zuletzt von: einem externen Anrufer."
    )
    # Bob missed nothing; an administrator may ask about anyone.
    assert await ask(hass, "qui a appelé bob", "fr", user=hass_admin_user) == (
        "Bob Example n'a aucun appel manqué depuis 00:00."
    )


async def test_missed_calls_from_earlier_today_after_a_restart(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A call missed this morning counts after a restart: the call log keeps it."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    await wildix.post_all(*INBOUND_MISSED)
    # Alice's last call is a later one: the model keeps only that one's details.
    await wildix.post(alice_calls_back(int(dt_util.utcnow().timestamp() * 1000)))
    entry = entry_of(hass)
    link(hass, entry, alice, "201")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert await ask(hass, "Who called me?", user=alice) == (
        "Missed calls for Alice Example since 00:00: 1. Last from: +4940555777888."
    )


async def test_missed_calls_from_the_pbx_history_with_names_first(
    hass: HomeAssistant, office: MockConfigEntry, pbx: FakePbx
) -> None:
    """With the PBX API: a call missed before Home Assistant knew the PBX, named.

    The caller's number is in a phonebook; the PBX's history reported no name.
    """
    pbx.contacts = [{"id": "17", "name": "Noor Haddad", "mobile": "+4940555777888"}]
    # 08:05 in Berlin; the tests start at 11:02 there.
    pbx.history = [
        cdr(
            "9100",
            "2025-03-04 08:05:00",
            "2025-03-04 08:05:20",
            from_number="+4940555777888",
            from_name="+4940555777888",
        )
    ]
    alice = MockUser(name="Alice").add_to_hass(hass)
    link(hass, office, alice, "201")
    await hass.services.async_call(
        DOMAIN, "refresh_phonebook", {"config_entry_id": office.entry_id}, blocking=True
    )
    assert await ask(hass, "Who called me?", user=alice) == (
        "Missed calls for Alice Martin since 00:00: 1. Last from: Noor Haddad."
    )


async def test_missed_calls_of_others_are_private(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A non-admin hears only their own missed calls."""
    bob = MockUser(name="Bob").add_to_hass(hass)
    await wildix.post_all(*INBOUND_MISSED)
    link(hass, entry_of(hass), bob, "202")
    await wildix.post_all(*BUSY_MORNING[6:8])
    assert await ask(hass, "who called alice", user=bob) == (
        "You may only do this for your own phone user, not for Alice Example."
    )


async def test_me_without_a_person_link(
    hass: HomeAssistant, wildix: WildixSender, hass_admin_user: MockUser
) -> None:
    """Without a linked person, "me" gets an answer that says how to link one."""
    await wildix.post_all(*INBOUND_MISSED)
    answer = await ask(hass, "do I have missed calls", user=hass_admin_user)
    assert answer.startswith("I don't know which phone user you are.")
    assert "Wildix → Configure" in answer
    # Without any user (an automation's conversation) there is no "me" either.
    assert (await ask(hass, "Wer hat mich angerufen?", "de")).startswith(
        "Ich weiß nicht, welcher Telefonbenutzer du bist."
    )


@pytest.fixture
async def office(hass: HomeAssistant, pbx: FakePbx) -> MockConfigEntry:
    """Return an entry connected to the fake PBX, whose token acts as 201, an admin."""
    return await add_entry(hass, pbx, **entry_data())


def asked(pbx: FakePbx, method: str, path: str) -> list[Any]:
    """Return the bodies the fake PBX got for a route."""
    return [
        body
        for asked_method, asked_path, _, body in pbx.requests
        if asked_method == method and asked_path.rstrip("/") == path
    ]


async def test_call_a_colleague_or_a_number(
    hass: HomeAssistant, pbx: FakePbx, office: MockConfigEntry
) -> None:
    """The speaker's phone rings, then dials the colleague's extension or the number."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    link(hass, office, alice, "201")
    assert await ask(hass, "call bruno", user=alice) == (
        "Calling Bruno Keller: Alice Martin's phone rings first."
    )
    assert await ask(hass, "Rufe +41 44 555 01 23 an", "de", user=alice) == (
        "Ich rufe +41 44 555 01 23 an: zuerst klingelt das Telefon von Alice Martin."
    )
    assert [
        body["number"] for body in asked(pbx, "POST", "/api/v1/originate/call")
    ] == [
        "202",
        "+41445550123",
    ]


async def test_call_refused_by_the_action_is_spoken(
    hass: HomeAssistant, pbx: FakePbx, office: MockConfigEntry
) -> None:
    """An error of wildix.call (here the PBX refuses) is the translated answer."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    link(hass, office, alice, "201")
    pbx.failing["/api/v1/originate"] = 400
    answer = await ask(hass, "appelle 202", "fr", user=alice)
    assert answer.startswith(
        "Cela n'a pas fonctionné : Le PBX de Office a refusé la demande pour Alice Martin"
    ), answer


async def test_set_own_presence_until_a_time(
    hass: HomeAssistant, pbx: FakePbx, office: MockConfigEntry
) -> None:
    """A non-admin sets their own presence, with an end in Home Assistant's time zone."""
    bruno = MockUser(name="Bruno").add_to_hass(hass)
    link(hass, office, bruno, "202")
    assert await ask(hass, "set me to do not disturb until 15:00", user=bruno) == (
        "Bruno Keller is now on do not disturb until 15:00."
    )
    user = pbx.users["202"]
    # 15:00 in Berlin is 14:00 UTC in March.
    assert (user.presence, user.until) == ("dnd", "04/03/2025 14:00")
    assert await ask(hass, "Mettimi su disponibile", "it", user=bruno) == (
        "Bruno Keller ora è disponibile."
    )
    assert pbx.users["202"].presence == ""
    assert await ask(hass, "set my status to sleepy", user=bruno) == (
        "I did not understand which presence to set: "
        "say available, away or do not disturb."
    )


async def test_non_admin_cannot_set_another_users_presence(
    hass: HomeAssistant,
    pbx: FakePbx,
    office: MockConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """By voice as by the action: only admins set another user's presence."""
    bruno = MockUser(name="Bruno").add_to_hass(hass)
    link(hass, office, bruno, "202")
    assert await ask(hass, "set the status of chiara to away", user=bruno) == (
        "You may only do this for your own phone user, not for Chiara Rossi."
    )
    assert asked(pbx, "PUT", "/api/v1/User/203/Presence") == []
    # Nor may a user Home Assistant no longer knows (not taken for an automation).
    result = await conversation.async_converse(
        hass, "set the status of chiara to away", None, Context(user_id="gone"), "en"
    )
    assert result.response.speech["plain"]["speech"] == (
        "You may only do this for your own phone user, not for Chiara Rossi."
    )
    assert asked(pbx, "PUT", "/api/v1/User/203/Presence") == []
    assert await ask(
        hass, "mets le statut de chiara sur absent", "fr", user=hass_admin_user
    ) == ("Chiara Rossi est maintenant absent.")
    assert pbx.users["203"].presence == "away"


async def test_voicemail_from_the_voicemail_sensor(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The voicemail intent reads the user's voicemail sensor (unique id ..._voicemail)."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    await wildix.post_all(*INBOUND_MISSED)
    link(hass, entry_of(hass), alice, "201")
    # The user's voicemail sensor (inbox) counts no unread voicemail yet.
    assert await ask(hass, "do I have new voicemails", user=alice) == (
        "Alice Example has no new voicemail."
    )
    sensor = er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{ENTRY_ID}_201_voicemail",
        config_entry=entry_of(hass),
        translation_key="voicemail",
    )
    hass.states.async_set(sensor.entity_id, "2", {"last_caller": "Noor Haddad"})
    assert await ask(hass, "Habe ich neue Sprachnachrichten?", "de", user=alice) == (
        "Neue Sprachnachrichten für Alice Example: 2. Die letzte von Noor Haddad."
    )
    # A hidden caller (no caller attribute) is an outside caller.
    hass.states.async_set(sensor.entity_id, "1", {"last_caller": None})
    assert await ask(hass, "check my voicemail", user=alice) == (
        "New voicemails for Alice Example: 1. The last from an outside caller."
    )
    hass.states.async_set(sensor.entity_id, "0")
    assert await ask(hass, "consulte ma messagerie", "fr", user=alice) == (
        "Alice Example n'a aucun nouveau message vocal."
    )


def llm_context(user: MockUser | None, language: str = "en") -> llm.LLMContext:
    """Return the context an LLM agent passes, on every supported Home Assistant."""
    values: dict[str, Any] = {
        "platform": "test",
        "context": Context(user_id=None if user is None else user.id),
        "user_prompt": None,
        "language": language,
        "assistant": conversation.DOMAIN,
        "device_id": None,
    }
    fields = {field.name for field in dataclasses.fields(llm.LLMContext)}
    return llm.LLMContext(
        **{key: value for key, value in values.items() if key in fields}
    )


def tool_of(api: llm.APIInstance, intent_type: str) -> llm.Tool:
    """Return the tool of an intent.

    Home Assistant 2025.x names intent tools after the intent; later versions take
    the tools an integration's `llm` platform names (`wildix__<intent>`, as core does).
    """
    names = (intent_type, f"{DOMAIN}__{intent_type}")
    found = [tool for tool in api.tools if tool.name in names]
    assert len(found) == 1, [tool.name for tool in api.tools]
    return found[0]


async def call_tool(
    api: llm.APIInstance, intent_type: str, args: dict[str, Any]
) -> dict[str, Any]:
    """Call an intent's tool as an LLM agent does; return the data it gets."""
    tool = tool_of(api, intent_type)
    result = await api.async_call_tool(llm.ToolInput(tool.name, args))
    # A ToolResult from Home Assistant 2026 on, the data itself before.
    data: dict[str, Any] = getattr(result, "data", result)
    return data


async def test_llm_agents_get_the_intents_as_tools(
    hass: HomeAssistant, wildix: WildixSender, hass_admin_user: MockUser
) -> None:
    """The Assist API offers every intent with its description and slots."""
    await wildix.post_all(*BUSY_MORNING)
    api = await llm.async_get_api(hass, "assist", llm_context(hass_admin_user))
    tools = {intent_type: tool_of(api, intent_type) for intent_type in INTENTS}
    handlers = {handler.intent_type: handler for handler in intent.async_get(hass)}
    for intent_type, tool in tools.items():
        assert tool.description == handlers[intent_type].description
        assert tool.description and "Wildix" in tool.description
    schema = tools["WildixSetPresence"].parameters.schema
    fields = {str(key): key.description for key in schema}
    assert set(fields) == {"status", "name", "until", "message"}
    assert all(fields.values())

    result = await call_tool(
        api, "WildixMissedCalls", {"name": "alice", "since": "10:00"}
    )
    assert result["speech"]["plain"]["speech"] == (
        "Missed calls for Alice Example since 10:00: 1. Last from: +4940555777888."
    )
    assert result["response_type"] == "query_answer"
    assert result["speech_slots"] == {
        "name": "Alice Example",
        "extension": "201",
        "since": "2025-03-04T10:00:00+01:00",
        "count": 1,
        "callers": ["+4940555777888"],
    }
    result = await call_tool(api, "WildixWhoIsOnThePhone", {})
    assert [call["name"] for call in result["speech_slots"]["calls"]] == [
        "Bob Example",
        "Carol Example",
    ]


async def test_llm_tool_speaks_the_agents_language_and_asks_back(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Ambiguity is an error the LLM can read, in the conversation's language."""
    await wildix.post_all(*BUSY_MORNING)
    api = await llm.async_get_api(hass, "assist", llm_context(None, "it"))
    result = await call_tool(api, "WildixWhoIsOnThePhone", {"name": "Example"})
    assert result["response_type"] == "error"
    assert result["speech"]["plain"]["speech"] == (
        "Più persone corrispondono a Example: Alice Example, Bob Example, "
        "Carol Example. Quale intendi?"
    )


@pytest.mark.parametrize(
    ("since", "answer"),
    [
        ("9 am", "since 09:00: 1."),
        ("11.00", "since 11:00: 1."),
        ("um 11 Uhr", "since 11:00: 1."),
        ("15h", "since 15:00: 1."),  # still to come today: yesterday's
        ("2025-03-04T08:00:00+00:00", "since 09:00: 1."),
        ("2025-03-04 12:00", "since 12:00: 0."),
        ("11:30 pm", "since 23:30: 1."),
        ("12 am", "since 00:00: 1."),
    ],
)
async def test_times_as_spoken_or_typed(
    hass: HomeAssistant, wildix: WildixSender, since: str, answer: str
) -> None:
    """A start time is today's, or yesterday's when it is still to come."""
    await wildix.post_all(*INBOUND_MISSED)  # rings Alice at 11:02, Berlin time
    api = await llm.async_get_api(hass, "assist", llm_context(None))
    result = await call_tool(
        api, "WildixMissedCalls", {"name": "alice", "since": since}
    )
    speech = result["speech"]["plain"]["speech"]
    if answer.endswith("0."):
        assert speech == f"Alice Example has no missed calls {answer[:-4]}."
    else:
        assert speech.startswith(f"Missed calls for Alice Example {answer}"), speech


async def test_times_not_understood(
    hass: HomeAssistant, pbx: FakePbx, office: MockConfigEntry
) -> None:
    """A time that is none gets a question back, and nothing is set; 25:00 is none."""
    api = await llm.async_get_api(hass, "assist", llm_context(None))
    for until in ("later", "25:00"):
        result = await call_tool(
            api,
            "WildixSetPresence",
            {"name": "bruno", "status": "away", "until": until},
        )
        assert result["speech"]["plain"]["speech"] == (
            f"I did not understand the time {until}."
        )
    assert asked(pbx, "PUT", "/api/v1/User/202/Presence") == []
    # An end that has passed today is tomorrow's; the PBX gets it in UTC.
    result = await call_tool(
        api, "WildixSetPresence", {"name": "bruno", "status": "away", "until": "9:00"}
    )
    assert result["response_type"] == "action_done"
    assert result["speech_slots"]["until"] == "2025-03-05T09:00:00+01:00"
    assert pbx.users["202"].until == "05/03/2025 08:00"


# Every sentence docs/voice.md shows, and the answer it gets from Alice (linked to 201,
# an administrator) on a quiet morning.
ANSWERS = {
    "en": {
        "who": "Nobody is on the phone.",
        "who bruno": "Bruno Keller is not on the phone.",
        "missed": "Alice Martin has no missed calls since 00:00.",
        "missed bruno": "Bruno Keller has no missed calls since 00:00.",
        "call": "Calling Bruno Keller: Alice Martin's phone rings first.",
        "call number": "Calling +41 44 555 01 23: Alice Martin's phone rings first.",
        "dnd": "Alice Martin is now on do not disturb until 15:00.",
        "away": "Alice Martin is now away.",
        "available": "Alice Martin is now available.",
        "bruno away": "Bruno Keller is now away.",
        "voicemail": "Alice Martin has no new voicemail.",
        "voicemail bruno": "Bruno Keller has no new voicemail.",
    },
    "it": {
        "who": "Nessuno è al telefono.",
        "who bruno": "Bruno Keller non è al telefono.",
        "missed": "Alice Martin non ha chiamate perse dalle 00:00.",
        "missed bruno": "Bruno Keller non ha chiamate perse dalle 00:00.",
        "call": "Chiamo Bruno Keller: prima squilla il telefono di Alice Martin.",
        "dnd": "Alice Martin ora è in non disturbare fino alle 15:00.",
        "available": "Alice Martin ora è disponibile.",
        "bruno away": "Bruno Keller ora è assente.",
        "voicemail": "Alice Martin non ha nuovi messaggi in segreteria.",
    },
    "de": {
        "who": "Niemand telefoniert gerade.",
        "who bruno": "Bruno Keller telefoniert gerade nicht.",
        "missed": "Alice Martin hat seit 00:00 keine verpassten Anrufe.",
        "missed bruno": "Bruno Keller hat seit 00:00 keine verpassten Anrufe.",
        "call": (
            "Ich rufe Bruno Keller an: zuerst klingelt das Telefon von Alice Martin."
        ),
        "dnd": "Alice Martin ist jetzt bis 15:00 auf „Nicht stören“.",
        "away": "Alice Martin ist jetzt abwesend.",
        "bruno away": "Bruno Keller ist jetzt abwesend.",
        "voicemail": "Alice Martin hat keine neuen Sprachnachrichten.",
    },
    "fr": {
        "who": "Personne n'est au téléphone.",
        "who bruno": "Bruno Keller n'est pas au téléphone.",
        "missed": "Alice Martin n'a aucun appel manqué depuis 00:00.",
        "missed bruno": "Bruno Keller n'a aucun appel manqué depuis 00:00.",
        "call": "J'appelle Bruno Keller : le téléphone de Alice Martin sonne d'abord.",
        "dnd": ("Alice Martin est maintenant en mode ne pas déranger jusqu'à 15:00."),
        "available": "Alice Martin est maintenant disponible.",
        "bruno away": "Bruno Keller est maintenant absent.",
        "voicemail": "Alice Martin n'a aucun nouveau message vocal.",
    },
}
SENTENCES = [
    ("en", "Who is on the phone?", "who"),
    ("en", "Is Bruno on the phone?", "who bruno"),
    ("en", "Who called me?", "missed"),
    ("en", "Do I have missed calls?", "missed"),
    ("en", "Who called Bruno?", "missed bruno"),
    ("en", "Call Bruno", "call"),
    ("en", "Call +41 44 555 01 23", "call number"),
    ("en", "Set me to do not disturb until 15:00", "dnd"),
    ("en", "Set my status to away", "away"),
    ("en", "Set my status to available", "available"),
    ("en", "Set the status of Bruno to away", "bruno away"),
    ("en", "Do I have new voicemails?", "voicemail"),
    ("en", "Check my voicemail", "voicemail"),
    ("en", "Does Bruno have voicemails?", "voicemail bruno"),
    ("it", "Chi è al telefono?", "who"),
    ("it", "Bruno è al telefono?", "who bruno"),
    ("it", "Chi mi ha chiamato?", "missed"),
    ("it", "Ho chiamate perse?", "missed"),
    ("it", "Chi ha chiamato Bruno?", "missed bruno"),
    ("it", "Chiama Bruno", "call"),
    ("it", "Telefona a Bruno", "call"),
    ("it", "Mettimi su non disturbare fino alle 15", "dnd"),
    ("it", "Imposta il mio stato su disponibile", "available"),
    ("it", "Imposta lo stato di Bruno su assente", "bruno away"),
    ("it", "Ho nuovi messaggi in segreteria?", "voicemail"),
    ("it", "Controlla la mia segreteria", "voicemail"),
    ("de", "Wer telefoniert gerade?", "who"),
    ("de", "Ist Bruno am Telefon?", "who bruno"),
    ("de", "Wer hat mich angerufen?", "missed"),
    ("de", "Habe ich verpasste Anrufe?", "missed"),
    ("de", "Wer hat Bruno angerufen?", "missed bruno"),
    ("de", "Rufe Bruno an", "call"),
    ("de", "Bruno anrufen", "call"),
    ("de", "Setze mich auf nicht stören bis 15 Uhr", "dnd"),
    ("de", "Stelle meinen Status auf abwesend", "away"),
    ("de", "Setze den Status von Bruno auf abwesend", "bruno away"),
    ("de", "Habe ich neue Sprachnachrichten?", "voicemail"),
    ("de", "Prüfe meine Mailbox", "voicemail"),
    ("fr", "Qui est au téléphone ?", "who"),
    ("fr", "Est-ce que Bruno est au téléphone ?", "who bruno"),
    ("fr", "Qui m'a appelé ?", "missed"),
    ("fr", "J'ai des appels manqués ?", "missed"),
    ("fr", "Qui a appelé Bruno ?", "missed bruno"),
    ("fr", "Appelle Bruno", "call"),
    ("fr", "Mets-moi en ne pas déranger jusqu'à 15h", "dnd"),
    ("fr", "Mets mon statut sur disponible", "available"),
    ("fr", "Mets le statut de Bruno sur absent", "bruno away"),
    ("fr", "J'ai des messages vocaux ?", "voicemail"),
    ("fr", "Consulte ma messagerie", "voicemail"),
]


@pytest.mark.parametrize("language", sorted(ANSWERS))
async def test_every_documented_sentence(
    hass: HomeAssistant,
    pbx: FakePbx,
    office: MockConfigEntry,
    hass_admin_user: MockUser,
    language: str,
) -> None:
    """Each sentence of docs/voice.md reaches its intent; the answer is in its language."""
    link(hass, office, hass_admin_user, "201")
    heard = {
        sentence: await ask(hass, sentence, language, user=hass_admin_user)
        for said_in, sentence, _ in SENTENCES
        if said_in == language
    }
    assert heard == {
        sentence: ANSWERS[language][answer]
        for said_in, sentence, answer in SENTENCES
        if said_in == language
    }


async def test_sentences_only_while_an_entry_is_loaded(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Without a loaded Wildix entry the built-in agent no longer hears the sentences."""
    entry = entry_of(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Home Assistant's own sentences answer instead (a state query that finds nothing).
    assert await ask(hass, "who is on the phone") == "Not any"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await ask(hass, "who is on the phone") == "Nobody is on the phone."


async def test_what_only_the_line_tells(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A phone that rings with no call known yet rings, without a party or a name."""
    await wildix.post("presence_telephony_ringing")
    assert await ask(hass, "who is on the phone") == "Extension 201's phone is ringing."
    # An extension is a name too.
    assert await ask(hass, "ist 201 am telefon", "de") == (
        "Das Telefon von Extension 201 klingelt."
    )


async def test_tools_ask_back_when_something_is_missing(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A call without whom, or a voicemail sensor without a count, gets an answer."""
    alice = MockUser(name="Alice").add_to_hass(hass)
    await wildix.post_all(*INBOUND_MISSED)
    link(hass, entry_of(hass), alice, "201")
    api = await llm.async_get_api(hass, "assist", llm_context(alice, "fr"))
    result = await call_tool(api, "WildixCall", {})
    assert result["speech"]["plain"]["speech"] == (
        "Qui dois-je appeler ? Dites un nom ou un numéro."
    )
    sensor = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{ENTRY_ID}_201_voicemail", config_entry=entry_of(hass)
    )
    hass.states.async_set(sensor.entity_id, "unavailable")
    result = await call_tool(api, "WildixVoicemail", {})
    assert result["speech"]["plain"]["speech"] == (
        "Home Assistant ne connaît pas la messagerie de Alice Example."
    )
