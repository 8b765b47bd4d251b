"""Who the other party of a call is: a colleague, the PBX's name, or a phonebook's."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .model import CallMoment, PbxModel
from .pbx_contacts import Contact
from .views import FileLookup, moment_data

if TYPE_CHECKING:
    from .pbx_call_log import PbxCallLog


def contact_name(contact: Contact) -> str:
    """Return how a contact is shown: the name, and the company if known."""
    return f"{contact.name} ({contact.company})" if contact.company else contact.name


class CallNames:
    """Names of call parties from the model and, with the PBX API, the phonebooks."""

    def __init__(
        self, model: PbxModel, phonebook: Callable[[], "PbxCallLog | None"]
    ) -> None:
        """Initialise for a model and the getter of the entry's phonebook lookup."""
        self._model = model
        self._phonebook = phonebook

    def user_name(self, extension: str) -> str:
        """Return a colleague's name, or their extension."""
        user = self._model.users.get(extension)
        return extension if user is None else user.display_name

    def find(self, number: str | None, name: str | None, local: bool) -> str | None:
        """Return the name to show for a party: a colleague's, the PBX's, a contact's."""
        if local and number is not None and number in self._model.users:
            return self._model.users[number].name or name
        if name or number is None:
            return name
        contact = self._lookup(number)
        return None if contact is None else contact_name(contact)

    def with_remote_name(
        self, attributes: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Complete a call's shown attributes with a phonebook name and its source."""
        if attributes is None or "remote_number" not in attributes:
            return attributes
        number, name = attributes["remote_number"], attributes["remote_name"]
        source = None
        if name:
            source = "pbx"
        elif number and (contact := self._lookup(number)) is not None:
            name, source = contact_name(contact), "phonebook"
        return attributes | {"remote_name": name, "remote_name_source": source}

    def moment_data(
        self, moment: CallMoment, show_remote: bool, find: FileLookup
    ) -> dict[str, Any]:
        """Return what automations see of a call moment, with a phonebook name."""
        data = moment_data(moment, show_remote, find)
        return self.with_remote_name(data) or data

    def _lookup(self, number: str) -> Contact | None:
        phonebook = self._phonebook()
        return None if phonebook is None else phonebook.lookup(number)
