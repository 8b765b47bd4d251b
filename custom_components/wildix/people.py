"""Who is "me": the people of Home Assistant linked to the PBX's users, and who may act for whom.

An entry's option `people` maps a `person` entity id to the extension of a Wildix user,
e.g. `{"person.noor": "201"}`. A Home Assistant user is linked through the person whose
`user_id` is theirs. The link is the base of "me" everywhere (actions, media, voice).
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized, UnknownUser

CONF_PEOPLE: Final = "people"
PERSON_DOMAIN: Final = "person"


def linked_people(options: Mapping[str, Any]) -> dict[str, str]:
    """Return an entry's person → extension links, ignoring malformed ones."""
    links = options.get(CONF_PEOPLE)
    if not isinstance(links, Mapping):
        return {}
    return {
        person: extension
        for person, extension in links.items()
        if isinstance(person, str)
        and person.startswith(f"{PERSON_DOMAIN}.")
        and isinstance(extension, str)
        and extension
    }


def persons_of_user(hass: HomeAssistant, user_id: str) -> list[str]:
    """Return the entity ids of the persons whose Home Assistant user is `user_id`."""
    return [
        state.entity_id
        for state in hass.states.async_all(PERSON_DOMAIN)
        if state.attributes.get("user_id") == user_id
    ]


def linked_extension(
    hass: HomeAssistant, options: Mapping[str, Any], user_id: str | None
) -> str | None:
    """Return the extension linked to a Home Assistant user's person in one entry, if any."""
    if user_id is None:
        return None
    links = linked_people(options)
    for person in persons_of_user(hass, user_id):
        if (extension := links.get(person)) is not None:
            return extension
    return None


async def async_acting_user(
    hass: HomeAssistant, context: Context | None
) -> User | None:
    """Return the Home Assistant user an action or entity change runs for.

    None without a user (automations, scripts started by them, the system). A user id
    that names no user (deleted since) raises UnknownUser, an Unauthorized: it must not
    pass for "no user", who may act for everyone.
    """
    if context is None or context.user_id is None:
        return None
    if (user := await hass.auth.async_get_user(context.user_id)) is None:
        raise UnknownUser(context=context)
    return user


def may_act_for(
    hass: HomeAssistant, options: Mapping[str, Any], user: User | None, extension: str
) -> bool:
    """Tell whether a Home Assistant user may act (or see) for a Wildix user.

    Without a user (automations, scripts) and for administrators: every Wildix user.
    Anyone else: only the Wildix user linked to their person, while active.
    """
    if user is None or user.is_admin:
        return True
    return user.is_active and linked_extension(hass, options, user.id) == extension


def visible_extensions(
    hass: HomeAssistant, options: Mapping[str, Any], user: User | None
) -> frozenset[str] | None:
    """Return the extensions a user may see; None means every one."""
    if user is None or user.is_admin:
        return None
    extension = linked_extension(hass, options, user.id)
    return frozenset() if extension is None else frozenset({extension})


def check_may_act_for(
    hass: HomeAssistant,
    options: Mapping[str, Any],
    user: User | None,
    extension: str,
    entity_id: str | None = None,
) -> None:
    """Raise Unauthorized unless the user may act for the Wildix user."""
    if not may_act_for(hass, options, user, extension):
        raise Unauthorized(
            user_id=None if user is None else user.id, entity_id=entity_id
        )
