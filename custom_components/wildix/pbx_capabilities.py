"""Which PBX API features a credential may use: each declared once here, and probed.

Knows the PBX API and nothing of Home Assistant. After setup and on each reload the
integration calls `async_probe(client, token)`: it learns who the credential acts as
(`personal/info`; a 401 there raises `PbxAuthError`, the only refusal that asks for a
new token) and then asks each feature's probe. A probe answers with a note (how the
feature works with this credential) or raises; `capability()` turns the outcome into a
row of the capability table (feature, usable, why).

A feature is declared in ONE place: a `Feature` line in `FEATURES`, with its key (also
the `{feature}` of the `missing_permission` repair issue and the translation key
`capability.<key>`), what a Wildix token and a Company API key need for it, and its
probe (`async (ProbeContext) -> str` raising a `PbxError` when the feature is not
usable; `NotGrantedError` when the probe knows without asking). A probe should read,
never write: a write feature is probed by a read of the same resource, and a write the
PBX refuses later turns the feature off as well.

Credential kinds (research §1): a Wildix "Simple token" acts as one PBX user, with
that user's rights (an admin's: everything; a user's: the user-level routes); a
Company API key (`wsk-v1-…`, WMS 7.09+) has scopes `{resource}:read` / `{resource}:*`
and the catch-alls `pbx:read` / `pbx:*` (H); which scope covers presence, switches
and registrations is not published (the scope names given for them are assumed).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .pbx_client import PbxClient
from .pbx_directory import ROUTE_COLLEAGUES, ROUTE_USER_COLLEAGUES
from .pbx_history import ROUTE_PBX_HISTORY, user_history_route
from .pbx_info import PersonalInfo
from .pbx_transport import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxNotWildixError,
    PbxRefusedError,
    PbxRouteMissingError,
)

COMPANY_KEY_PREFIX = "wsk-v1-"
YES = "✔"
NO = "✘"
UNKNOWN = "?"


class NotGrantedError(PbxError):
    """The credential may not use a feature (known without asking, or refused)."""

    def __init__(self, reason: str, feature: str | None = None) -> None:
        """Keep the reason and, when known, the feature."""
        super().__init__(reason)
        self.feature = feature


def is_company_key(token: str) -> bool:
    """Return whether a credential is a Company API key rather than a Wildix token."""
    return token.strip().startswith(COMPANY_KEY_PREFIX)


@dataclass(slots=True)
class ProbeContext:
    """What the probes share: the client, who it acts as, what was learnt so far."""

    client: PbxClient
    info: PersonalInfo
    company_key: bool
    # Whether a Wildix token has an admin's rights (the admin directory answered);
    # None until the directory's probe ran.
    admin: bool | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        """Return the extension the credential acts as, or raise NotGrantedError."""
        if not self.info.extension:
            raise NotGrantedError("the credential acts as no PBX user")
        return self.info.extension

    def needs_admin(self) -> None:
        """Raise NotGrantedError for a Wildix token without an admin's rights."""
        if not self.company_key and self.admin is False:
            raise NotGrantedError("a user's token may act only for its own user")


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature of the PBX API that stands alone: on or off for a credential."""

    key: str
    # What a Wildix Simple token needs for it, and what a Company API key needs.
    token_needs: str
    key_needs: str
    probe: Callable[[ProbeContext], Awaitable[str]]

    def needs(self, company_key: bool) -> str:
        """Return what a credential of this kind needs for the feature."""
        return self.key_needs if company_key else self.token_needs


@dataclass(frozen=True, slots=True)
class Capability:
    """One row of the capability table."""

    feature: str
    # None: not known (the PBX did not answer the probe).
    usable: bool | None
    why: str
    # What the credential needs for the feature (shown when it is off).
    needs: str

    @property
    def mark(self) -> str:
        """Return ✔, ✘ or ? for the table."""
        if self.usable is None:
            return UNKNOWN
        return YES if self.usable else NO


async def _directory(ctx: ProbeContext) -> str:
    """Read one record of the admin directory, else of the user-level one."""
    client = ctx.client
    try:
        await client.async_probe_colleagues(ROUTE_COLLEAGUES)
    except (PbxAuthError, PbxRouteMissingError) as err:
        try:
            await client.async_probe_colleagues(ROUTE_USER_COLLEAGUES)
        except PbxError:
            raise err from None
        ctx.admin = False
        client.colleagues_route = ROUTE_USER_COLLEAGUES
        return f"user view ({ROUTE_USER_COLLEAGUES})"
    ctx.admin = True
    client.colleagues_route = ROUTE_COLLEAGUES
    return f"admin view ({ROUTE_COLLEAGUES})"


async def _registrations(ctx: ProbeContext) -> str:
    await ctx.client.async_get_registrations()
    return "readable"


async def _version(ctx: ProbeContext) -> str:
    version = (await ctx.client.async_get_version()).version
    return "readable" if version else "the PBX answered without a version"


async def _switches(ctx: ProbeContext) -> str:
    await ctx.client.async_get_switches()
    return "readable"


async def _presence_own(ctx: ProbeContext) -> str:
    extension = ctx.extension
    if ctx.company_key:
        await ctx.client.async_get_presence(extension)
    return f"as {extension}"


async def _presence_others(ctx: ProbeContext) -> str:
    ctx.needs_admin()
    await ctx.client.async_get_presence(ctx.extension)
    return "any user"


async def _call_control_own(ctx: ProbeContext) -> str:
    return f"as {ctx.extension}"


async def _call_control_others(ctx: ProbeContext) -> str:
    ctx.needs_admin()
    await ctx.client.async_list_calls(ctx.extension)
    return "any user (API v2)"


async def _voicemail(ctx: ProbeContext) -> str:
    # Listed with an admin's token in a live test (M); a user's token and the Company
    # API key's scope are unknown (PBX-API-HISTORY.md §6, items 7 and 11).
    await ctx.client.async_get_voicemails()
    return "readable"


async def _call_history(ctx: ProbeContext) -> str:
    """Read the whole PBX's history; a user's token reads its own user's."""
    client = ctx.client
    if ctx.company_key or ctx.admin is not False:
        await client.async_probe_history()
        client.history_route = ROUTE_PBX_HISTORY
        return "readable"
    route = user_history_route(ctx.extension)
    await client.async_probe_history(route)
    client.history_route = route
    return f"own user ({route})"


async def _contacts(ctx: ProbeContext) -> str:
    await ctx.client.async_probe_contacts()
    return "readable"


ADMIN_TOKEN = "an admin's token"
FEATURES: tuple[Feature, ...] = (
    # The directory's probe runs first: the others learn from it whether a Wildix
    # token has an admin's rights.
    Feature("directory", "any user's token", "colleagues:read", _directory),
    Feature("registrations", ADMIN_TOKEN, "pbx:read", _registrations),
    Feature("version", ADMIN_TOKEN, "pbx:read", _version),
    Feature("switches", ADMIN_TOKEN, "dialplan:read", _switches),
    Feature("presence_own", "any user's token", "presence:*", _presence_own),
    Feature("presence_others", ADMIN_TOKEN, "presence:*", _presence_others),
    Feature("call_control_own", "any user's token", "originate:*", _call_control_own),
    Feature("call_control_others", ADMIN_TOKEN, "callcontrol:*", _call_control_others),
    Feature("voicemail", ADMIN_TOKEN, "pbx:* (assumed)", _voicemail),
    # Which scope of a Company API key covers the call history is not published (L).
    # A user's token reads its own user's history (/User/{ext}/CallHistory/, M).
    Feature("call_history", "any user's token (own user)", "pbx:read", _call_history),
    Feature("contacts", "any user's token", "phonebooks:read", _contacts),
)
FEATURES_BY_KEY = {feature.key: feature for feature in FEATURES}


def why_not(err: PbxError) -> tuple[bool | None, str]:
    """Return whether an error turns a feature off, and why, in the table's words."""
    if isinstance(err, NotGrantedError):
        return False, str(err)
    if isinstance(err, PbxAuthError):
        return False, f"refused (HTTP {err.status})"
    if isinstance(err, PbxRouteMissingError):
        return False, f"missing (HTTP 404 on {err.path})"
    if isinstance(err, PbxNotWildixError):
        return False, "unreadable answer"
    if isinstance(err, (PbxConnectionError, PbxRefusedError)):
        return None, "no answer"
    return None, type(err).__name__


def capability(feature: Feature, company_key: bool, note: str | PbxError) -> Capability:
    """Return a feature's row of the table from its probe's note or error."""
    needs = feature.needs(company_key)
    if isinstance(note, PbxError):
        usable, why = why_not(note)
        return Capability(feature.key, usable, why, needs)
    return Capability(feature.key, True, note, needs)


async def async_probe(
    client: PbxClient, token: str
) -> tuple[PersonalInfo, dict[str, Capability]]:
    """Return who the credential acts as and its capability table, feature by feature.

    Raises what `personal/info` raises: PbxAuthError (the token itself is refused),
    or another PbxError when the PBX cannot tell who the credential is.
    """
    info = await client.async_get_personal_info()
    ctx = ProbeContext(client, info, is_company_key(token))

    async def probe(feature: Feature) -> Capability:
        try:
            note: str | PbxError = await feature.probe(ctx)
        except PbxError as err:
            note = err
        return capability(feature, ctx.company_key, note)

    # The first (the directory) tells the others whether a token is an admin's; the
    # others are asked at once, so that a slow PBX delays the table only once.
    first = await probe(FEATURES[0])
    rest = await asyncio.gather(*(probe(feature) for feature in FEATURES[1:]))
    return info, {row.feature: row for row in (first, *rest)}


def format_table(table: dict[str, Capability]) -> str:
    """Return the table as Markdown lines (feature, ✔/✘, why)."""
    return "\n".join(
        f"- {row.feature}: {row.mark} {row.why}"
        + ("" if row.usable else f" (needs {row.needs})")
        for row in table.values()
    )


async def async_token_refused(client: PbxClient, err: PbxError) -> bool:
    """Tell whether a 401 means the token itself is refused (401 on `personal/info`)."""
    if not isinstance(err, PbxAuthError) or err.status != 401:
        return False
    try:
        await client.async_get_personal_info()
    except PbxAuthError as info_err:
        return info_err.status == 401
    except PbxError:
        return False
    return False
