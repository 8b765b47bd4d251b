"""PBX API: the directory of users (`/api/v1/PBX/Colleagues`)."""

from dataclasses import dataclass

from .pbx_transport import MAX_RECORDS, SEGMENT, PbxTransport, text_field

ROUTE_COLLEAGUES = "/api/v1/PBX/Colleagues"  # H: admin view, paged


@dataclass(frozen=True, slots=True)
class Colleague:
    """One PBX user from the directory (`GET /api/v1/PBX/Colleagues`).

    Fields as listed by TristanStark/WildixPHPApi (WildixUser.php); `role` and
    `license_type` values per n8n (admin/user/fax/room/park_orbit;
    basic/essential/business/premium/wizyconf). The numeric `id` is not the extension.
    """

    extension: str
    id: str | None
    name: str | None
    login: str | None
    email: str | None
    department: str | None
    role: str | None
    license_type: str | None
    office_phone: str | None
    mobile_phone: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class Directory:
    """All users of the PBX, with what the PBX said about their number."""

    colleagues: tuple[Colleague, ...]
    # The PBX's `total`; None when it gave none.
    total: int | None
    # False when paging stopped at MAX_PAGES before `total` was reached.
    complete: bool


class PbxDirectory(PbxTransport):
    """The directory of users."""

    async def async_get_colleagues(self) -> Directory:
        """Return every user of the PBX, fetching all pages (at most MAX_PAGES).

        Paging with `count` and `start` (H: n8n, 10x-media), see `PbxTransport._pages`.
        """
        path = ROUTE_COLLEAGUES
        colleagues: dict[str, Colleague] = {}
        total: int | None = None
        complete = False
        async for page in self._pages(path):
            total = page.total
            complete = page.last
            for record in page.records[:MAX_RECORDS]:
                colleague = self._colleague(record)
                if colleague is None:
                    continue
                if colleague.extension in colleagues:
                    self._deviation(
                        path, f"extension {colleague.extension} listed twice"
                    )
                    continue
                colleagues[colleague.extension] = colleague
        return Directory(tuple(colleagues.values()), total, complete)

    def _colleague(self, record: object) -> Colleague | None:
        """Return a directory record as a Colleague, or None without an extension."""
        path = ROUTE_COLLEAGUES
        if not isinstance(record, dict):
            self._deviation(path, "a record that is not an object")
            return None
        extension = text_field(record.get("extension"), 32)
        if extension is None or not SEGMENT.fullmatch(extension):
            self._deviation(path, "a record without a usable `extension`")
            return None
        return Colleague(
            extension=extension,
            id=text_field(record.get("id")),
            name=text_field(record.get("name")),
            login=text_field(record.get("login")),
            email=text_field(record.get("email")),
            department=text_field(record.get("department")),
            role=text_field(record.get("role"), 32),
            license_type=text_field(record.get("licenseType"), 32),
            office_phone=text_field(record.get("officePhone"), 64),
            mobile_phone=text_field(record.get("mobilePhone"), 64),
            language=text_field(record.get("language"), 32),
        )
