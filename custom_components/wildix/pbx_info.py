"""PBX API: who the credential acts as, the PBX's version, and its health."""

from dataclasses import dataclass

from .pbx_transport import PbxNotWildixError, PbxTransport, text_field

ROUTE_PERSONAL_INFO = "/api/v1/personal/info"  # H: n8n live test, 10x-media
ROUTE_VERSION = "/api/v1/PBX/version"  # M: n8n live test; the answer's shape is unknown
ROUTE_PING = "/api/v1/PBX/ping"  # M: n8n live test


@dataclass(frozen=True, slots=True)
class PersonalInfo:
    """The user the credential acts as (`GET /api/v1/personal/info`)."""

    id: str | None
    extension: str | None
    name: str | None
    login: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class PbxVersion:
    """The PBX's software version (`GET /api/v1/PBX/version`)."""

    # None when the PBX answered without one.
    version: str | None


def _version_text(value: object) -> str | None:
    """Return a version given as text or as a number (`7.09` or `709`), else None."""
    if isinstance(value, float):
        value = str(value)
    return text_field(value, 64)


class PbxInfo(PbxTransport):
    """Personal info, version and ping."""

    async def async_get_personal_info(self) -> PersonalInfo:
        """Return the user the token acts as; the check made before a token is saved."""
        result = await self._result("GET", ROUTE_PERSONAL_INFO)
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{ROUTE_PERSONAL_INFO}: result is not an object")
        for key in ("id", "extension", "name"):
            if text_field(result.get(key)) is None:
                self._deviation(ROUTE_PERSONAL_INFO, f"no usable `{key}`")
        return PersonalInfo(
            id=text_field(result.get("id")),
            extension=text_field(result.get("extension"), 32),
            name=text_field(result.get("name")),
            login=text_field(result.get("login")),
            email=text_field(result.get("email")),
        )

    async def async_get_version(self) -> PbxVersion:
        """Return the PBX's version; `version` is None when the answer holds none.

        The answer's shape is not documented (L): a string (or number) result, an
        object with a version-like key (`version`, `build`, ...) or null are all taken;
        an answer that is not Wildix's envelope (HTML) raises PbxNotWildixError.
        """
        result = await self._result("GET", ROUTE_VERSION)
        if version := _version_text(result):
            return PbxVersion(version)
        if isinstance(result, dict):
            for key in ("version", "pbxVersion", "wmsVersion", "wms", "pbx", "build"):
                if version := _version_text(result.get(key)):
                    if key != "version":
                        self._deviation(ROUTE_VERSION, f"version under `{key}`")
                    return PbxVersion(version)
        self._deviation(ROUTE_VERSION, "no version in the result")
        return PbxVersion(None)

    async def async_ping(self) -> None:
        """Ask the PBX whether it is up; raise a PbxError when it is not."""
        await self._result("GET", ROUTE_PING)
