"""Read each PBX API route the integration uses once; print what was found and how it differs.

Run through scripts/pbx-check. Read-only: it sends GET requests and nothing else. It
parses every answer with the integration's own client (custom_components/wildix/
pbx_client.py), so "differs" means exactly "the integration had to work around this".
"""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import os
import sys
from typing import TextIO

import aiohttp

from custom_components.wildix.pbx_calls import ROUTE_LIST_CALLS
from custom_components.wildix.pbx_client import PbxClient
from custom_components.wildix.pbx_directory import ROUTE_COLLEAGUES
from custom_components.wildix.pbx_info import (
    ROUTE_PERSONAL_INFO,
    ROUTE_PING,
    ROUTE_VERSION,
)
from custom_components.wildix.pbx_presence import ROUTE_USER_PRESENCE
from custom_components.wildix.pbx_registrations import ROUTE_REGISTRATIONS
from custom_components.wildix.pbx_switches import ROUTE_SWITCHES
from custom_components.wildix.pbx_transport import (
    PbxAuthError,
    PbxError,
    PbxRouteMissingError,
)

TOKEN_VARIABLE = "WILDIX_PBX_TOKEN"
# What each route gives the integration; printed when the route is missing.
FEATURES = {
    ROUTE_VERSION: "the PBX version sensor",
    ROUTE_PING: "nothing yet (health)",
    ROUTE_COLLEAGUES: "users as devices before any event, named from the directory",
    ROUTE_REGISTRATIONS: "the phone registration binary sensors",
    ROUTE_SWITCHES: "the dialplan switches",
    ROUTE_USER_PRESENCE: "reading presence (setting it uses PUT on the same route)",
    ROUTE_LIST_CALLS: "v2 call control: hang up, and calling for another user",
}


async def _check_routes(
    client: PbxClient, extension: str | None
) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    """Return the read routes to try after personal info, with what to print of each."""

    async def version() -> str:
        return (await client.async_get_version()).version or "no version in the answer"

    async def ping() -> str:
        await client.async_ping()
        return "answers"

    async def colleagues() -> str:
        directory = await client.async_get_colleagues()
        named = sum(1 for colleague in directory.colleagues if colleague.name)
        text = f"{len(directory.colleagues)} users ({named} named), total {directory.total}"
        return text if directory.complete else f"{text}; stopped at the page limit"

    async def registrations() -> str:
        users = await client.async_get_registrations()
        registered = sum(1 for user in users.values() if user.registered)
        return f"{len(users)} users listed, {registered} with a phone registered"

    async def switches() -> str:
        found = await client.async_get_switches()
        return f"{len(found)} switches" + "".join(
            f"\n             {switch.title} (id {switch.id}) state {switch.state}"
            f"{' (tree)' if switch.is_tree else ''}"
            for switch in found
        )

    routes: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        (ROUTE_VERSION, version),
        (ROUTE_PING, ping),
        (ROUTE_COLLEAGUES, colleagues),
        (ROUTE_REGISTRATIONS, registrations),
        (ROUTE_SWITCHES, switches),
    ]
    if extension is not None:
        own = extension

        async def presence() -> str:
            found = await client.async_get_presence(own)
            return f"{own} is {found.status}" + (
                f": {found.message}" if found.message else ""
            )

        async def calls() -> str:
            return (
                f"{len(await client.async_list_calls(own))} calls in progress for {own}"
            )

        routes += [
            (ROUTE_USER_PRESENCE.format(extension=own), presence),
            (ROUTE_LIST_CALLS + f"?user={own}", calls),
        ]
    return routes


def _feature(route: str) -> str:
    """Return what a route gives the integration."""
    for known, feature in FEATURES.items():
        if route.startswith(known.split("{")[0]):
            return feature
    return "?"


async def check(
    url: str, token: str, *, verify_ssl: bool, timeout: float, out: TextIO
) -> int:
    """Check a PBX; return 0 when every route answered as expected or is missing."""
    deviations: list[tuple[str, str]] = []
    problems = 0

    def line(status: str, route: str, text: str) -> None:
        print(f"  {status:<9}  GET {route}\n             {text}", file=out)

    async with aiohttp.ClientSession() as session:
        client = PbxClient(
            session,
            url,
            token,
            verify_ssl=verify_ssl,
            timeout=timeout,
            on_deviation=lambda path, what: deviations.append((path, what)),
        )
        print(f"Wildix PBX API check of {client.url} (read-only)", file=out)
        try:
            info = await client.async_get_personal_info()
        except PbxError as err:
            line("FAILED", ROUTE_PERSONAL_INFO, f"{type(err).__name__}: {err}")
            print("The integration could not use this address and token.", file=out)
            return 1
        line(
            "ok", ROUTE_PERSONAL_INFO, f"the token acts as {info.extension} {info.name}"
        )
        for route, read in await _check_routes(client, info.extension):
            try:
                line("ok", route, await read())
            except PbxRouteMissingError as err:
                line("missing", route, f"{err.reason}: off here: {_feature(route)}")
            except PbxAuthError as err:
                problems += 1
                line("refused", route, f"{err}: the token lacks this right")
            except PbxError as err:
                problems += 1
                line("FAILED", route, f"{type(err).__name__}: {err}")
    if deviations:
        print("Shapes that differ from what the integration expects:", file=out)
        for path, what in dict.fromkeys(deviations):
            print(f"  {path}: {what}", file=out)
    print(
        f"{problems} routes failed, {len(deviations)} shape differences.",
        file=out,
    )
    return 1 if problems or deviations else 0


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Parse the command line and check the PBX."""
    parser = argparse.ArgumentParser(
        prog="scripts/pbx-check",
        description="Read-only check of a Wildix PBX's REST API against what the "
        "Home Assistant integration expects.",
    )
    parser.add_argument(
        "url", help="the PBX's address, e.g. https://example.wildixin.com"
    )
    parser.add_argument(
        "token",
        nargs="?",
        help=f"a Simple token or Company API key (default: ${TOKEN_VARIABLE}, "
        "which keeps it out of the shell history)",
    )
    parser.add_argument(
        "--no-verify-ssl", action="store_true", help="accept any TLS certificate"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request"
    )
    args = parser.parse_args(argv)
    token = args.token or os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        parser.error(f"no token: pass TOKEN or set {TOKEN_VARIABLE}")
    try:
        return asyncio.run(
            check(
                args.url,
                token,
                verify_ssl=not args.no_verify_ssl,
                timeout=args.timeout,
                out=out,
            )
        )
    except ValueError as err:
        parser.error(str(err))


if __name__ == "__main__":
    sys.exit(main())
