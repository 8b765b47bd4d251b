"""PBX API: the contacts of every phonebook the credential can read.

Shapes from the research notes (PBX-API-HISTORY.md §4): `GET /api/v1/Contacts/`
(H), paged with `start`/`count`, values strings; one contact has several number
fields (`phone`, `office`, `mobile`, `home`, `home_mobile`, `extension`, M).
"""

from dataclasses import dataclass

from .pbx_transport import PbxTransport, text_field

ROUTE_CONTACTS = "/api/v1/Contacts/"  # H: official manual; Basic, simple token
NUMBER_FIELDS = ("phone", "office", "mobile", "home", "home_mobile", "extension")
MAX_CONTACTS = 50_000
_PAGE = 100


@dataclass(frozen=True, slots=True)
class Contact:
    """A phonebook contact: who, which company, and their numbers."""

    name: str
    company: str | None
    numbers: tuple[str, ...]


def parse_contact(record: object) -> Contact | None:
    """Read one contact; None without a name or a number."""
    if not isinstance(record, dict):
        return None
    name = text_field(record.get("name"))
    numbers = tuple(
        number
        for field in NUMBER_FIELDS
        if (number := text_field(record.get(field), 64)) is not None
    )
    if name is None or not numbers:
        return None
    company = text_field(record.get("organization")) or text_field(
        record.get("company")
    )
    return Contact(name=name, company=company, numbers=numbers)


class PbxContacts(PbxTransport):
    """The PBX's phonebooks."""

    async def async_probe_contacts(self) -> None:
        """Read one contact: whether the credential may read the phonebooks."""
        self._records(
            ROUTE_CONTACTS,
            await self._result("GET", ROUTE_CONTACTS, params={"count": 1}),
        )

    async def async_get_contacts(self) -> list[Contact]:
        """Return every contact with a name and a number, at most MAX_CONTACTS."""
        contacts: list[Contact] = []
        async for page in self._pages(
            ROUTE_CONTACTS, page_size=_PAGE, max_pages=MAX_CONTACTS // _PAGE
        ):
            contacts.extend(
                contact
                for record in page.records
                if (contact := parse_contact(record)) is not None
            )
        return contacts[:MAX_CONTACTS]
