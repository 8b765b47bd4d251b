"""PBX API: call control (v1 originate, v2 make-call, list-calls, hangup)."""

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Any

from .pbx_transport import (
    MAX_TEXT,
    PbxNotWildixError,
    PbxRouteMissingError,
    PbxTransport,
    int_field,
    path_segment,
    text_field,
)

ROUTE_ORIGINATE = "/api/v1/originate/call"  # M/H: gbcrm, n8n live
ROUTE_MAKE_CALL = (
    "/api/v2/call-control/make-call"  # M: n8n, gbcrm; missing on some tenants
)
ROUTE_LIST_CALLS = "/api/v2/call-control/list-calls/"  # H: Wildix API-key guide (path)
ROUTE_HANGUP = "/api/v2/call-control/hangup"  # M: n8n, gbcrm

_NUMBER_SEPARATORS = re.compile(r"[\s().-]")
_NUMBER = re.compile(r"\+?[0-9*#]{1,40}")


@dataclass(frozen=True, slots=True)
class ActiveCall:
    """A call in progress on a user's devices (v2 `list-calls`)."""

    sip_call_id: str
    state: str | None
    caller_number: str | None
    caller_name: str | None
    callee_number: str | None
    callee_name: str | None
    duration: int | None


def normalize_number(value: str) -> str:
    """Return a phone number without separators, or raise ValueError.

    Digits with an optional leading `+`, and `*` and `#` for feature codes; spaces,
    dots, dashes and parentheses are separators and dropped. Letters are refused.
    """
    number = _NUMBER_SEPARATORS.sub("", value) if isinstance(value, str) else ""
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"not a phone number: {value!r}")
    return number


class PbxCalls(PbxTransport):
    """Calling, listing calls and hanging up."""

    # The form of the list-calls route this PBX answered last.
    _list_calls_route = ROUTE_LIST_CALLS

    async def async_originate_call(self, number: str, name: str | None = None) -> None:
        """Ring the token owner's phone, then dial `number` (`POST /api/v1/originate/call`).

        Body `{number, name?}`, answer `{type: "result", result: "Success"}` (M/H).
        """
        body = {"number": normalize_number(number)}
        if name:
            body["name"] = name[:MAX_TEXT]
        await self._write("POST", ROUTE_ORIGINATE, json=body)

    async def _call_control(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send a v2 call-control request and return its answer, unwrapped if wrapped.

        v2 actions answer `{message}` (M: n8n, gbcrm) rather than the v1 envelope; both
        are taken. The whole v2 surface is missing (404) on some tenants.
        """
        params = {"user": path_segment(user, "extension")} if user is not None else None
        if method != "GET":
            return await self._write(method, path, params=params, json=json)
        data = await self._request(method, path, params=params, json=json)
        if data.get("type") == "result" and "result" in data:
            return data["result"]
        return data

    async def async_make_call(
        self, extension: str, destination: str, device: str | None = None
    ) -> str | None:
        """Ring `extension`'s phone, then dial `destination` (v2 call control).

        `POST /api/v2/call-control/make-call?user=<ext>` with `{destination, device?}`
        (M: n8n, gbcrm). Only a root admin (or a key with `callcontrol:*`) may act for
        another user. Returns the PBX's message, if any.
        """
        body = {"destination": normalize_number(destination)}
        if device:
            body["device"] = device[:MAX_TEXT]
        answer = await self._call_control(
            "POST", ROUTE_MAKE_CALL, user=extension, json=body
        )
        return text_field(answer.get("message")) if isinstance(answer, dict) else None

    async def async_list_calls(self, extension: str) -> tuple[ActiveCall, ...]:
        """Return `extension`'s calls in progress (v2 `list-calls?user=`).

        The wrapper differs by source (research §2.4): n8n reads `result.calls`, others
        top-level `calls`; a bare list is taken too.
        """
        path = self._list_calls_route
        try:
            answer = await self._call_control("GET", path, user=extension)
        except PbxRouteMissingError:
            # Clients use the route with and without its trailing slash (research
            # §2.4): after a 404 the other form is asked, and kept if it answers.
            path = path.removesuffix("/") if path.endswith("/") else f"{path}/"
            answer = await self._call_control("GET", path, user=extension)
            self._list_calls_route = path
        if isinstance(answer, dict) and isinstance(answer.get("calls"), list):
            calls: list[Any] = answer["calls"]
        elif isinstance(answer, list):
            self._deviation(path, "a bare list of calls")
            calls = answer
        else:
            raise PbxNotWildixError(f"{path}: no `calls` list in the answer")
        found: list[ActiveCall] = []
        for call in calls[:64]:
            sip_call_id = (
                text_field(call.get("sipCallId"), 512)
                if isinstance(call, dict)
                else None
            )
            if not isinstance(call, dict) or sip_call_id is None:
                self._deviation(path, "a call without `sipCallId`")
                continue
            found.append(
                ActiveCall(
                    sip_call_id=sip_call_id,
                    state=text_field(call.get("state"), 32),
                    caller_number=text_field(call.get("callerNumber"), 64),
                    caller_name=text_field(call.get("callerName")),
                    callee_number=text_field(call.get("calleeNumber"), 64),
                    callee_name=text_field(call.get("calleeName")),
                    duration=int_field(call.get("duration")),
                )
            )
        return tuple(found)

    async def async_hang_up(
        self,
        sip_call_id: str,
        *,
        extension: str | None = None,
        reason: str | None = None,
    ) -> None:
        """End one call: `POST /api/v2/call-control/hangup {sipCallId, reason?}` (M).

        `extension` adds `?user=` as make-call does, for a credential acting for
        another user (L: only seen on make-call and list-calls).
        """
        if not isinstance(sip_call_id, str) or not 0 < len(sip_call_id) <= 512:
            raise ValueError("a call needs its sipCallId")
        body = {"sipCallId": sip_call_id}
        if reason:
            body["reason"] = reason[:MAX_TEXT]
        await self._call_control("POST", ROUTE_HANGUP, user=extension, json=body)

    async def async_hang_up_user(self, extension: str) -> int:
        """End every call of `extension`; return how many were ended."""
        calls = await self.async_list_calls(extension)
        for call in calls:
            await self.async_hang_up(call.sip_call_id, extension=extension)
        return len(calls)
