"""Call events that leave voicemails and recordings, in every shape the sources allow.

PBX-API-HISTORY.md §5: `attachments[]` elements hold one key (`voicemail`,
`recording`); the deprecated `attachment` / `attachmentType`; `flags` with
`voicemail`; older flat elements with a `type`, and `recordingsData[]`.
"""

from typing import Any

from .common import load_event

CALL_ID = "de_w204518_1741082520.3188"


def voicemail_completed(
    url: str | None,
    *,
    shape: str = "nested",
    call_id: str = CALL_ID,
    time_ms: int | None = None,
    callee: str = "201",
) -> dict[str, Any]:
    """Return the `call:completed` of a missed call to Alice that left a voicemail."""
    payload = load_event("call_completed_inbound_missed")
    if time_ms is not None:
        payload["time"] = time_ms
    payload["id"] = payload["data"]["id"] = call_id
    flow = payload["data"]["flows"][0]
    if callee != "201":
        flow["callee"] |= {"phone": callee, "userExtension": callee, "name": None}
    match shape:
        case "nested":
            flow["attachments"] = [
                {
                    "voicemail": {
                        "url": url,
                        "owner": "callee",
                        "destinations": [{"email": "alice@example.com"}],
                    }
                }
            ]
            flow["flags"] = ["voicemail"]
        case "deprecated":
            flow["attachment"] = url
            flow["attachmentType"] = "VOICEMAIL"
            flow["attachmentDestinations"] = ["alice@example.com"]
        case "flat":
            flow["attachments"] = [{"type": "voicemail", "url": url}]
        case "flag":
            flow["flags"] = ["voicemail"]
    return payload


def voicemail_call_end(flags: list[str]) -> dict[str, Any]:
    """Return the legacy `call:end` of the missed call, with its `flags`."""
    payload = load_event("call_end_inbound_missed")
    payload["data"]["flags"] = flags
    return payload


def recorded_completed(url: str, name: str) -> dict[str, Any]:
    """Return the `call:completed` of an answered, recorded call, nested shape."""
    payload = load_event("call_completed_inbound_answered_recorded")
    flow = payload["data"]["flows"][0]
    del flow["recordingsData"]
    flow["attachments"] = [
        {
            "recording": {
                "fileName": name,
                "url": url,
                "start": 1741079706274,
                "end": 1741079762140,
                "owner": "callee",
                "pauses": [],
            }
        }
    ]
    return payload
