"""Whom a spoken name, or "me", means: the users of every loaded Wildix entry."""

from dataclasses import dataclass
import unicodedata

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .hub import WildixHub
from .model import User
from .people import linked_extension, may_act_for
from .voice_speech import VoiceRefusal

# How many candidates a clarifying question names.
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Person:
    """A PBX user of one entry, found by voice."""

    hub: WildixHub
    user: User

    @property
    def name(self) -> str:
        """Return the user's name, or their extension."""
        return self.user.display_name

    @property
    def extension(self) -> str:
        """Return the user's extension."""
        return self.user.extension


def normalize(text: str) -> str:
    """Return a name as compared: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().replace("'", " ").split())


def loaded_hubs(hass: HomeAssistant) -> list[WildixHub]:
    """Return the hubs of the loaded Wildix entries."""
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def everyone(hass: HomeAssistant) -> list[Person]:
    """Return every known user of every loaded entry."""
    return [
        Person(hub, user)
        for hub in loaded_hubs(hass)
        for user in hub.model.users.values()
    ]


def matches(hass: HomeAssistant, name: str) -> list[Person]:
    """Return the users a name means: exact names first, else every partial match.

    As Home Assistant matches entity names: case and accents do not matter; a name
    matches whole, by extension, or by the start of its words ("noor" → "Noor Haddad");
    the name a user gave the device in Home Assistant counts as well.
    """
    query = normalize(name)
    if not query:
        return []
    people = [(person, _names(hass, person)) for person in everyone(hass)]
    exact = [person for person, names in people if query in names]
    if exact:
        return exact
    words = query.split()
    return [
        person
        for person, names in people
        if any(_starts_words(known, words) for known in names)
    ]


def _names(hass: HomeAssistant, person: Person) -> set[str]:
    """Return the normalised names a user answers to, their extension included."""
    names = {normalize(person.name), person.extension}
    device_id = person.hub.devices.user_device_id(person.extension)
    device = None if device_id is None else dr.async_get(hass).async_get(device_id)
    if device is not None and device.name_by_user:
        names.add(normalize(device.name_by_user))
    return names


def _starts_words(name: str, words: list[str]) -> bool:
    """Tell whether each word of a query starts a word of the name, in order."""
    remaining = name.split()
    for word in words:
        while remaining and not remaining[0].startswith(word):
            remaining.pop(0)
        if not remaining:
            return False
        remaining.pop(0)
    return True


def one(hass: HomeAssistant, name: str) -> Person:
    """Return the one user a name means, or refuse with what to ask."""
    found = matches(hass, name)
    if not found:
        raise VoiceRefusal("voice_unknown_user", name=name)
    if len(found) > 1:
        names = ", ".join(person.name for person in found[:MAX_CANDIDATES])
        raise VoiceRefusal("voice_ambiguous", name=name, names=names)
    return found[0]


def me(hass: HomeAssistant, context: Context) -> Person:
    """Return the PBX user linked to the asker's person, or say how to link one."""
    for hub in loaded_hubs(hass):
        extension = linked_extension(hass, hub.entry.options, context.user_id)
        if extension is not None and (user := hub.model.users.get(extension)):
            return Person(hub, user)
    raise VoiceRefusal("voice_no_link")


def named_or_me(hass: HomeAssistant, context: Context, name: str | None) -> Person:
    """Return the user named, or the asker's own user when no name is given."""
    return me(hass, context) if not name else one(hass, name)


async def async_check_may_act_for(
    hass: HomeAssistant, context: Context, person: Person
) -> None:
    """Refuse unless the asker may act for (or look into) the user."""
    user = None
    if context.user_id is not None:
        # A user that no longer exists is nobody, not an automation.
        if (user := await hass.auth.async_get_user(context.user_id)) is None:
            raise VoiceRefusal("voice_not_allowed", name=person.name)
    if not may_act_for(hass, person.hub.entry.options, user, person.extension):
        raise VoiceRefusal("voice_not_allowed", name=person.name)
