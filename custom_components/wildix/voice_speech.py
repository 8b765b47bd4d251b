"""What Assist says: answers in the asker's language, from the integration's translations."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import translation
from homeassistant.util import dt as dt_util

from .const import DOMAIN

# The answers live among the translated messages (category `exceptions`): the one
# backend category of translations with placeholders that integrations may add keys to.
CATEGORY = "exceptions"


@dataclass(frozen=True, slots=True)
class Phrase:
    """A translated message of the integration and its placeholders."""

    key: str
    placeholders: Mapping[str, str | int] = field(default_factory=dict)


class VoiceRefusal(Exception):
    """An intent that cannot be carried out, with what to say instead."""

    def __init__(self, key: str, **placeholders: str | int) -> None:
        """Remember the answer."""
        super().__init__(key)
        self.phrase = Phrase(key, placeholders)


class Speech:
    """The integration's messages in one language."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        """Keep the loaded messages."""
        self._messages = messages

    @classmethod
    async def async_load(cls, hass: HomeAssistant, language: str) -> "Speech":
        """Load the messages of a language; missing ones fall back to English."""
        messages = await translation.async_get_translations(
            hass, language, CATEGORY, {DOMAIN}
        )
        return cls(messages)

    def say(self, key: str, **placeholders: str | int) -> str:
        """Return a message with its placeholders filled in."""
        text = self._messages.get(f"component.{DOMAIN}.{CATEGORY}.{key}.message", key)
        for name, value in placeholders.items():
            text = text.replace(f"{{{name}}}", str(value))
        return text

    def phrase(self, phrase: Phrase) -> str:
        """Return a phrase as text."""
        return self.say(phrase.key, **phrase.placeholders)

    def error(self, err: HomeAssistantError) -> str:
        """Return an action's error in this language."""
        if err.translation_domain == DOMAIN and err.translation_key:
            detail = self.say(
                err.translation_key, **(err.translation_placeholders or {})
            )
        else:
            detail = str(err) or type(err).__name__
        return self.say("voice_failed", error=detail)


def clock(moment: datetime) -> str:
    """Return a time of day as spoken answers show it (local 24-hour time)."""
    return dt_util.as_local(moment).strftime("%H:%M")
