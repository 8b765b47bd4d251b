"""PBX API: the directory of users (`/api/v1/PBX/Colleagues`)."""

from contextlib import aclosing
from dataclasses import dataclass

from .pbx_transport import MAX_RECORDS, PbxTransport, text_field
from .protocol import is_extension

ROUTE_COLLEAGUES = "/api/v1/PBX/Colleagues"  # H: admin view, paged
# M: the user view (canvacanva alarm.sh, get_mem_get_cal_set_group.php), same shape;
# a user's token reads this one, and a Company API key's `colleagues:read` covers it.
ROUTE_USER_COLLEAGUES = "/api/v1/Colleagues/"


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
    # Whether the listing provably holds every user: False when paging stopped early
    # (MAX_PAGES, MAX_RECORDS), pages repeated records (a PBX that ignores `start`), or
    # fewer records came than `total` said.
    complete: bool
    # Why it is not complete, for the log.
    incomplete: str | None = None


class PbxDirectory(PbxTransport):
    """The directory of users."""

    # The route the directory is read from: the admin view unless the probe found
    # that the credential may read only the user view.
    colleagues_route = ROUTE_COLLEAGUES

    async def async_probe_colleagues(self, route: str) -> None:
        """Read one record of a directory route; raise a PbxError if it is not usable."""
        result = await self._result("GET", route, params={"count": 1, "start": 0})
        self._records(route, result)

    async def async_get_colleagues(self) -> Directory:
        """Return every user of the PBX, fetching all pages (at most MAX_RECORDS in all).

        Paging with `count` and `start` (H: n8n, 10x-media), see `PbxTransport._pages`.
        Records without a usable extension are skipped; they count towards `total`.
        """
        path = self.colleagues_route
        colleagues: dict[str, Colleague] = {}
        total: int | None = None
        received = 0
        incomplete: str | None = "paging stopped after the last page allowed"
        async with aclosing(self._pages(path)) as pages:
            async for page in pages:
                total = page.total
                if received + len(page.records) > MAX_RECORDS:
                    incomplete = f"more than {MAX_RECORDS} records"
                    break
                received += len(page.records)
                repeated = self._add_page(colleagues, page.records)
                if repeated:
                    incomplete = f"{repeated} records listed twice"
                    break
                if page.last:
                    incomplete = None
        if incomplete is None and total is not None and received < total:
            incomplete = f"{received} records of the {total} announced"
        return Directory(
            tuple(colleagues.values()), total, incomplete is None, incomplete
        )

    def _add_page(self, colleagues: dict[str, Colleague], records: list[object]) -> int:
        """Add a page's colleagues; return how many were listed already."""
        repeated = 0
        for record in records:
            colleague = self._colleague(record)
            if colleague is None:
                continue
            if colleague.extension in colleagues:
                self._deviation(ROUTE_COLLEAGUES, "an extension listed twice")
                repeated += 1
                continue
            colleagues[colleague.extension] = colleague
        return repeated

    def _colleague(self, record: object) -> Colleague | None:
        """Return a directory record as a Colleague, or None without an extension."""
        path = self.colleagues_route
        if not isinstance(record, dict):
            self._deviation(path, "a record that is not an object")
            return None
        # Read longer than the rule allows, so that a long one is skipped, never cut.
        extension = text_field(record.get("extension"), 64)
        if extension is None or not is_extension(extension):
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
