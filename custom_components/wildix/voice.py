"""Assist: the intents, and the sentences that reach them from the built-in agent.

The built-in agent reaches a custom integration's intents only through sentences it
knows. Home Assistant offers custom integrations one public way to add sentences: the
conversation trigger platform (the sentence triggers of automations), attached here with
`async_initialize_triggers` as an automation would be, on Home Assistant 2025.4 and later.
"""

from dataclasses import dataclass, field
import logging
import re
from typing import Any

from homeassistant.const import CONF_COMMAND, CONF_PLATFORM
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.script import ScriptRunResult
from homeassistant.helpers.trigger import (
    async_initialize_triggers,
    async_validate_trigger_config,
)
from homeassistant.setup import async_when_setup
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .intents import INTENT_CALL, async_setup_intents
from .voice_sentences import ME, SENTENCES, STATUS_WORDS, UNTIL
from .voice_speech import Speech
from .voice_users import normalize

_LOGGER = logging.getLogger(__name__)

CONVERSATION = "conversation"
# What is dialled rather than looked up among the users: digits, `+` and separators.
_NUMBER = re.compile(r"^\+?[\d\s().-]+$")
_UNTIL = re.compile(
    rf"^(?P<status>.+?)\s+(?:{'|'.join(re.escape(word) for word in UNTIL)})\s+(?P<until>.+)$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Sentences:
    """The sentence triggers, attached while at least one Wildix entry is loaded."""

    entries: set[str] = field(default_factory=set)
    detach: list[CALLBACK_TYPE] | None = None
    waiting: bool = False


DATA_SENTENCES: HassKey[_Sentences] = HassKey(f"{DOMAIN}_sentences")


@callback
def async_setup_voice(hass: HomeAssistant) -> None:
    """Register the intents (for Home Assistant's whole run)."""
    async_setup_intents(hass)


@callback
def async_setup_entry_voice(hass: HomeAssistant, entry_id: str) -> CALLBACK_TYPE:
    """Give the built-in agent the sentences while the entry is loaded; return the undo."""
    sentences = hass.data.setdefault(DATA_SENTENCES, _Sentences())
    sentences.entries.add(entry_id)
    if sentences.detach is None and not sentences.waiting:
        sentences.waiting = True
        async_when_setup(hass, CONVERSATION, _async_attach_sentences)

    @callback
    def async_unload() -> None:
        sentences.entries.discard(entry_id)
        if not sentences.entries and sentences.detach is not None:
            for detach in sentences.detach:
                detach()
            sentences.detach = None

    return async_unload


async def _async_attach_sentences(hass: HomeAssistant, component: str) -> None:
    """Attach one sentence trigger per intent, unless every entry has gone meanwhile."""
    sentences = hass.data[DATA_SENTENCES]
    sentences.waiting = False
    if not sentences.entries or sentences.detach is not None:
        return
    detach: list[CALLBACK_TYPE] = []
    for intent_type, said in SENTENCES.items():
        config = await async_validate_trigger_config(
            hass, [{CONF_PLATFORM: CONVERSATION, CONF_COMMAND: said}]
        )
        remove = await async_initialize_triggers(
            hass,
            config,
            _handler(hass, intent_type),
            DOMAIN,
            f"{DOMAIN} {intent_type}",
            _log,
        )
        if remove is not None:
            detach.append(remove)
    sentences.detach = detach


def _log(level: int, message: str, **kwargs: Any) -> None:
    _LOGGER.log(level, message, **kwargs)


def _handler(hass: HomeAssistant, intent_type: str) -> Any:
    """Return the trigger action that hands a recognised sentence to its intent."""

    async def async_run(
        run_variables: dict[str, Any], context: Context | None = None
    ) -> ScriptRunResult:
        trigger = run_variables["trigger"]
        user_input = trigger["user_input"]
        asked = user_input["context"]
        language: str = user_input["language"]
        speech: str
        try:
            response = await intent.async_handle(
                hass,
                DOMAIN,
                intent_type,
                {
                    key: {"value": value}
                    for key, value in _slots(intent_type, trigger["slots"]).items()
                },
                text_input=user_input["text"],
                context=Context(
                    user_id=asked.get("user_id"),
                    parent_id=asked.get("parent_id"),
                    id=asked.get("id"),
                ),
                language=language,
            )
        except intent.InvalidSlotInfo:
            # A presence that is none of the known words.
            speech = (await Speech.async_load(hass, language)).say(
                "voice_not_understood"
            )
        else:
            speech = response.speech.get("plain", {}).get("speech", "")
        return ScriptRunResult(
            conversation_response=speech, service_response=None, variables={}
        )

    return async_run


def _slots(intent_type: str, spoken: dict[str, Any]) -> dict[str, str]:
    """Return the intent's slots for the words of a sentence trigger."""
    slots: dict[str, str] = {}
    name = str(spoken.get("name") or "").strip()
    if intent_type == INTENT_CALL and _NUMBER.match(name):
        slots["number"] = name
    elif name and normalize(name) not in ME:
        slots["name"] = name
    if status := str(spoken.get("status") or "").strip():
        if match := _UNTIL.match(status):
            status = match["status"]
            slots["until"] = match["until"]
        word = normalize(status)
        slots["status"] = next(
            (value for said, value in STATUS_WORDS.items() if normalize(said) == word),
            word,
        )
    return slots
