"""The words of the call log and the callbacks, in Home Assistant's language, privacy applied."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .call_log import LoggedCall
from .callbacks import Callback
from .const import DOMAIN
from .views import timestamp

# The English texts, used where a translation lacks one (strings.json "common").
ENGLISH = {
    "call_missed_from": "Missed call from {party}",
    "call_with": "Call with {party}",
    "call_back": "Call back {party}",
    "outside_party": "an outside party",
    "unknown_party": "an unknown number",
    "outcome_answered": "Answered",
    "outcome_missed": "Missed",
    "outcome_unanswered": "Not answered",
    "answered_by": "Answered by {name}",
    "talk_time": "Talked for {duration}",
    "voicemail": "A voicemail was left",
    "recording": "The call was recorded",
    "callback_description": "{number}: {attempts} missed, the last at {time}",
}

# The name of a party: the PBX's, else a phonebook's, else None.
type NameFinder = Callable[[str | None, str | None, bool], str | None]


async def async_load_texts(hass: HomeAssistant) -> dict[str, str]:
    """Return the call log's texts in Home Assistant's language."""
    translated = await async_get_translations(
        hass, hass.config.language, "common", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.common."
    return {
        key: translated.get(prefix + key, english) for key, english in ENGLISH.items()
    }


@dataclass(frozen=True, slots=True)
class CallLogTexts:
    """Renders calls and callbacks for people: summaries and descriptions."""

    texts: dict[str, str]
    show_remote: bool
    find_name: NameFinder

    def party(self, number: str | None, name: str | None, local: bool) -> str:
        """Return how the other party is shown: a name, a number, or that it is hidden."""
        if not self.show_remote and not local:
            return self.texts["outside_party"]
        return (
            self.find_name(number, name, local) or number or self.texts["unknown_party"]
        )

    def summary(self, call: LoggedCall) -> str:
        """Return a call's calendar summary."""
        party = self.party(call.remote_number, call.remote_name, call.remote_local)
        key = "call_missed_from" if call.missed and not call.outgoing else "call_with"
        return self.texts[key].format(party=party)

    def description(self, call: LoggedCall, names: Callable[[str], str]) -> str:
        """Return a call's calendar description: outcome, who answered, length, files."""
        if call.missed:
            lines = [self.texts["outcome_missed"]]
        elif call.answered:
            lines = [self.texts["outcome_answered"]]
        else:
            lines = [self.texts["outcome_unanswered"]]
        if call.answered_by is not None:
            lines.append(self.texts["answered_by"].format(name=names(call.answered_by)))
        if call.talk_seconds:
            lines.append(
                self.texts["talk_time"].format(duration=_duration(call.talk_seconds))
            )
        if call.voicemail:
            lines.append(self.texts["voicemail"])
        if call.recording:
            lines.append(self.texts["recording"])
        return "\n".join(lines)

    def callback_summary(self, item: Callback) -> str:
        """Return a callback's to-do summary."""
        if item.summary:
            return item.summary
        party = self.party(item.number, item.name, item.remote_local)
        return self.texts["call_back"].format(party=party)

    def callback_description(self, item: Callback) -> str:
        """Return a callback's to-do description: the number, the attempts, the last."""
        hidden = not self.show_remote and not item.remote_local
        when = dt_util.as_local(timestamp(item.last_ms)).strftime("%Y-%m-%d %H:%M")
        return self.texts["callback_description"].format(
            number=self.texts["outside_party"] if hidden else item.number,
            attempts=item.attempts,
            time=when,
        )


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02}:{rest:02}"
    return f"{minutes}:{rest:02}"
