"""Read each PBX API route the integration uses once; report what answered, in which shape.

Run through scripts/pbx-check. Read-only: it sends GET requests and nothing else. For
each route it prints the HTTP status and the answer's field names with their JSON types
(`string`, `digits` for a string of digits, `integer`, …), never a value: not a name, a
number, an id, the PBX's address or the token. `--json` prints the same report as one
JSON document that a PBX owner can attach to an issue as it is.

It stands alone (only aiohttp), so it reads a PBX the same way whichever version of the
integration is installed next to it.
"""

import argparse
import asyncio
from dataclasses import dataclass, field
import json
import os
import re
import sys
from typing import Any, TextIO
from urllib.parse import urlsplit

import aiohttp

TOKEN_VARIABLE = "WILDIX_PBX_TOKEN"
REPORT_FORMAT = 1
# Any answer larger than this is not one the integration asked for.
MAX_BODY = 4 * 1024 * 1024
# Records looked at per list: enough to see every field the PBX sends.
MAX_ITEMS = 200
MAX_DEPTH = 8
# List routes are asked for a short first page only.
PAGE = {"count": "5", "start": "0"}
_EXTENSION = re.compile(r"[0-9A-Za-z_.@+-]{1,32}")
# Object keys that are data rather than field names (extensions, ids) are folded into one.
_DATA_KEY = re.compile(r"[0-9*#+]{1,64}")
_DIGITS = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class Route:
    """One GET route the integration reads, and the fields it needs of the answer."""

    path: str
    feature: str
    params: dict[str, str] = field(default_factory=dict)
    # Field paths the integration reads; a list's fields are checked when it has items.
    expects: tuple[str, ...] = ("result",)

    @property
    def per_user(self) -> bool:
        """Return whether the route names the token's own extension."""
        return "{ext}" in self.path or "{ext}" in "".join(self.params.values())


PERSONAL_INFO = Route(
    "/api/v1/personal/info",
    "the connection check: whom the token acts as",
    expects=("result.extension",),
)
ROUTES = (
    Route("/api/v1/PBX/version", "the PBX version sensor"),
    Route("/api/v1/PBX/ping", "nothing yet (health)"),
    Route(
        "/api/v1/PBX/Colleagues",
        "the directory with an admin's token",
        PAGE,
        ("result.records[].extension", "result.total"),
    ),
    Route(
        "/api/v1/Colleagues/",
        "the directory with a user's token",
        PAGE,
        ("result.records[].extension", "result.total"),
    ),
    Route("/api/v1/PBX/Users/Sip/Registrations", "the phone registration sensors"),
    Route(
        "/api/v1/Dialplan/Switches",
        "the dialplan switches",
        expects=("result.records[].id", "result.records[].state"),
    ),
    Route(
        "/api/v1/User/{ext}/Presence",
        "reading presence (setting it uses PUT on the same route)",
        expects=("result.show",),
    ),
    Route(
        "/api/v2/call-control/list-calls/",
        "v2 call control: hang up, and calling for another user",
        {"user": "{ext}"},
        ("calls",),
    ),
    Route(
        "/api/v2/call-control/list-calls",
        "v2 call control, asked without the trailing slash",
        {"user": "{ext}"},
        ("calls",),
    ),
    Route("/api/v1/CallHistory/", "the token user's own call history", PAGE),
    Route("/api/v1/PBX/CallHistory/", "the whole PBX's call history (admin)", PAGE),
    Route("/api/v1/User/{ext}/CallHistory/", "one user's call history", PAGE),
    Route("/api/v1/VoiceMail", "voicemail", expects=("result.records",)),
    Route("/api/v1/Contacts/", "contacts", PAGE, ("result.records", "result.total")),
    Route("/api/v1/Phonebooks/", "phonebooks", PAGE, ("result.records",)),
    Route("/api/v1/PBX/recordings", "call recordings (admin)", PAGE),
)


def normalize_url(url: str) -> str:
    """Return the PBX's base URL, or raise ValueError (as the integration reads it)."""
    url = url.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the URL must not contain credentials, a query or a fragment")
    path = parts.path.rstrip("/")
    for suffix in ("/api/v1", "/api/v2"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    return f"{parts.scheme}://{parts.netloc}{path}"


def shape(value: Any, depth: int = 0) -> Any:
    """Return the JSON shape of a value: its types and field names, none of its data."""
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        if value and all(_DATA_KEY.fullmatch(key) for key in value):
            return {"<key>": _merged(list(value.values())[:MAX_ITEMS], depth)}
        return {key: shape(item, depth + 1) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_merged(value[:MAX_ITEMS], depth)] if value else []
    return _scalar(value)


def _scalar(value: Any) -> str:
    """Return a scalar's type; a string of digits is `digits` (ids sent as text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if not value:
            return "empty string"
        return "digits" if _DIGITS.fullmatch(value.strip()) else "string"
    return type(value).__name__


def _merged(items: list[Any], depth: int) -> Any:
    """Return one shape for the items of a list (the union of their shapes)."""
    result: Any = None
    for item in items:
        item_shape = shape(item, depth + 1)
        result = item_shape if result is None else merge(result, item_shape)
    return result


def merge(first: Any, second: Any) -> Any:
    """Return the union of two shapes."""
    if isinstance(first, dict) and isinstance(second, dict):
        keys = sorted(set(first) | set(second))
        return {
            key: merge(first[key], second[key])
            if key in first and key in second
            else first.get(key, second.get(key))
            for key in keys
        }
    if isinstance(first, list) and isinstance(second, list):
        if not first or not second:
            return first or second
        return [merge(first[0], second[0])]
    kinds = set(_kinds(first)) | set(_kinds(second))
    return " | ".join(sorted(kinds))


def _kinds(value: Any) -> list[str]:
    """Return the type names of a shape, for a union."""
    if isinstance(value, dict):
        return ["object"]
    if isinstance(value, list):
        return ["array"]
    return str(value).split(" | ")


def fields(value: Any, prefix: str = "") -> dict[str, str]:
    """Return a shape flattened to field paths and their types."""
    if isinstance(value, dict):
        found = {prefix: "object"} if prefix else {}
        for key, item in value.items():
            found.update(fields(item, f"{prefix}.{key}" if prefix else key))
        return found
    if isinstance(value, list):
        if not value:
            return {prefix: "empty array"}
        return {prefix: "array"} | fields(value[0], f"{prefix}[]")
    return {prefix: str(value)}


def missing_fields(found: dict[str, str], expects: tuple[str, ...]) -> list[str]:
    """Return the expected fields the answer lacks (inside an empty list, none)."""
    missing: list[str] = []
    for path in expects:
        parts = path.split("[]")
        lists = ["[]".join(parts[: n + 1]) for n in range(len(parts) - 1)]
        if any(found.get(part) == "empty array" for part in lists):
            continue
        if path not in found and f"result.{path}" not in found:
            missing.append(path)
    return missing


def outcome(status: int | None, answer: Any, missing: list[str]) -> str:
    """Return what an answer means for the integration."""
    if status is None:
        return "failed"
    if status == 404:
        return "missing"
    if status in (401, 403):
        return "refused"
    if not 200 <= status < 300:
        return "failed"
    if not isinstance(answer, dict) or missing:
        return "differs"
    return "ok"


async def read_route(
    session: aiohttp.ClientSession,
    base: str,
    route: Route,
    extension: str | None,
    timeout: float,
) -> tuple[dict[str, Any], Any]:
    """GET one route; return its report entry (no values) and the answer's JSON."""
    entry: dict[str, Any] = {
        "method": "GET",
        "route": route.path,
        "params": dict(route.params),
        "feature": route.feature,
        "status": None,
    }
    if route.per_user and extension is None:
        entry["outcome"] = "skipped"
        entry["error"] = "personal/info named no usable extension"
        return entry, None
    own = extension or ""
    params = {key: value.replace("{ext}", own) for key, value in route.params.items()}
    answer: Any = None
    try:
        async with session.get(
            base + route.path.replace("{ext}", own),
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            entry["status"] = response.status
            entry["content_type"] = response.content_type
            if "Retry-After" in response.headers:
                entry["retry_after"] = True
            body = await _read(response)
    except TimeoutError:
        entry["error"] = "no answer in time"
    except aiohttp.ClientError as err:
        entry["error"] = type(err).__name__
    except ValueError as err:
        entry["error"] = str(err)
    else:
        try:
            answer = json.loads(body) if body.strip() else None
        except ValueError:
            entry["error"] = "not JSON"
        else:
            entry["shape"] = shape(answer)
    found = fields(entry.get("shape"))
    missing = missing_fields(found, route.expects) if "shape" in entry else []
    if missing and 200 <= (entry["status"] or 0) < 300:
        entry["missing_fields"] = missing
    entry["outcome"] = outcome(entry["status"], answer, missing)
    return entry, answer


async def _read(response: aiohttp.ClientResponse) -> bytes:
    """Read an answer's body, refusing more than MAX_BODY bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise ValueError(f"answer larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def own_extension(answer: Any) -> str | None:
    """Return the extension personal/info named, when it can go into a route."""
    result = answer.get("result") if isinstance(answer, dict) else None
    value = result.get("extension") if isinstance(result, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and _EXTENSION.fullmatch(value) else None


async def report(
    url: str, token: str, *, verify_ssl: bool, timeout: float
) -> dict[str, Any]:
    """Read every route once; return the report (the token and every value left out)."""
    base = normalize_url(url)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(ssl=verify_ssl)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        first, info = await read_route(session, base, PERSONAL_INFO, None, timeout)
        routes = [first]
        connected = first["outcome"] in ("ok", "differs") and isinstance(info, dict)
        if connected:
            # The extension goes into the per-user routes, never into the report.
            extension = own_extension(info)
            for route in ROUTES:
                entry, _ = await read_route(session, base, route, extension, timeout)
                routes.append(entry)
    counts: dict[str, int] = {}
    for entry in routes:
        counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
    return {
        "format": REPORT_FORMAT,
        "tool": "scripts/pbx-check",
        "connected": connected,
        "routes": routes,
        "summary": dict(sorted(counts.items())),
    }


def print_text(data: dict[str, Any], out: TextIO) -> None:
    """Print the report for a reader."""
    print(
        "Wildix PBX API check (read-only; field names and types, no values)", file=out
    )
    for entry in data["routes"]:
        query = "&".join(f"{key}={value}" for key, value in entry["params"].items())
        route = entry["route"] + (f"?{query}" if query else "")
        status = entry["status"] if entry["status"] is not None else "---"
        print(f"  {entry['outcome']:<8} {status}  GET {route}", file=out)
        print(f"           for {entry['feature']}", file=out)
        if "error" in entry:
            print(f"           {entry['error']}", file=out)
        if entry.get("retry_after"):
            print("           the PBX asked to retry later (Retry-After)", file=out)
        for path in entry.get("missing_fields", []):
            print(f"           lacks {path}", file=out)
        for path, kind in fields(entry.get("shape")).items():
            if path and kind != "object":
                print(f"           {path}: {kind}", file=out)
    if not data["connected"]:
        print("The integration could not use this address and token.", file=out)
    summary = ", ".join(f"{count} {name}" for name, count in data["summary"].items())
    print(f"Routes: {summary}.", file=out)


def exit_status(data: dict[str, Any]) -> int:
    """Return 0 when every route answered as expected or is missing, else 1."""
    bad = {"failed", "refused", "differs"}
    return 1 if not data["connected"] or bad & set(data["summary"]) else 0


async def check(
    url: str,
    token: str,
    *,
    verify_ssl: bool,
    timeout: float,
    out: TextIO,
    as_json: bool = False,
) -> int:
    """Check a PBX, print the report; return the exit status."""
    data = await report(url, token, verify_ssl=verify_ssl, timeout=timeout)
    if as_json:
        json.dump(data, out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        print_text(data, out)
    return exit_status(data)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Parse the command line and check the PBX."""
    parser = argparse.ArgumentParser(
        prog="scripts/pbx-check",
        description="Read-only check of a Wildix PBX's REST API: which routes the "
        "Home Assistant integration uses answer, with which field names and types.",
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
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON, to attach to an issue",
    )
    args = parser.parse_args(argv)
    token = (args.token or os.environ.get(TOKEN_VARIABLE, "")).strip()
    if not token:
        parser.error(f"no token: pass TOKEN or set {TOKEN_VARIABLE}")
    try:
        normalize_url(args.url)
    except ValueError as err:
        parser.error(str(err))
    return asyncio.run(
        check(
            args.url,
            token,
            verify_ssl=not args.no_verify_ssl,
            timeout=args.timeout,
            out=out,
            as_json=args.json,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
