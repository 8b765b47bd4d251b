"""The fake PBX's voicemail and recordings: real audio files, the voicemail list, read flags, deletes.

Shapes and their sources (PBX-API-HISTORY.md; H official, M one live-tested client,
L one untested source). What no source settles is a knob (§6, items 7 and 8):
- files under `/spoolview/voicemail/<domain>/<user>/INBOX/msg<epoch>-<n>.mp3` and
  `/spoolview/recordings/<day>/<name>.wav` (M); `file_prefix` "/api/spoolview" (L);
- `file_auth`: "bearer" (the Simple Token, H) or "open" (served without a token, as one
  public consumer assumes, L);
- `redirect`: None, "same" (302 to the same host) or "other" (302 to another host;
  the Bearer header must not follow), M;
- `content_type`: None (audio/mpeg or audio/wav by name) or any override;
- `GET /api/v1/VoiceMail` answers `result.records` (M: exists; L: shape): `record_style`
  "plain" (`id`, `extension`, `caller`, `time` epoch s, `duration`, `url`, and the read
  flag under `read_flag`, None for no flag), "asterisk" (`msgId`, `mailbox`,
  `callerid`, `origtime`, `duration`, `file`, `folder` INBOX/Old) or "dated"
  (`messageId`, `user`, `callerNumber`, `date` as text, `length`, `link`, `unread`);
  `date_offset_hours`: the UTC offset of that text (0: UTC; else PBX-local time without
  a zone, as the CDR's times are, §3 `timezone`; no source says which the list uses);
- `PUT /api/v1/VoiceMail/{id}` marks read, `DELETE /api/v1/VoiceMail/{ids}/` deletes
  comma-separated ids (L); `voicemail_missing` makes the list and writes 404;
- `write_answer`, what both writes answer (issue 20: no source settles it): "envelope"
  (`{"type": "result", "result": "Success"}`, as other writes, M/H), "empty" (204, no
  body), "success" (the JSON string `"Success"`), "object" (`{}`), "refused" (the
  error envelope with HTTP 200) or "html" (HTTP 400, an HTML page).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
import io
import math
import struct
from typing import Any
import wave

from aiohttp import web

DOMAIN = "example.com"


def wav_bytes(seconds: float = 1.0, rate: int = 8000, tone: float = 440.0) -> bytes:
    """Return a valid mono 16-bit PCM WAV file holding a tone."""
    frames = int(seconds * rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * i / rate)))
                for i in range(frames)
            )
        )
    return buffer.getvalue()


def mp3_bytes(frames: int = 40) -> bytes:
    """Return a valid MPEG-1 Layer III stream of silent frames (128 kbit/s, 44.1 kHz)."""
    header = bytes([0xFF, 0xFB, 0x90, 0x64])
    return (header + bytes(417 - len(header))) * frames


@dataclass
class FakeFile:
    """A file the PBX serves."""

    body: bytes
    content_type: str


class FakeInbox:
    """Voicemails and recordings of the fake PBX's users."""

    def __init__(self) -> None:
        """Start empty, with the documented defaults."""
        self.url = ""  # the PBX's base URL, set when it starts
        self.files: dict[str, FakeFile] = {}
        self.voicemails: dict[str, dict[str, Any]] = {}
        self.file_prefix = "/spoolview"
        self.file_auth = "bearer"
        self.redirect: str | None = None
        self.content_type: str | None = None
        self.record_style = "plain"
        self.date_offset_hours = 0
        self.read_flag: str | None = "read"
        self.voicemail_missing = False
        self.write_answer = "envelope"
        # The demo's PBX: any file path is a real file (the simulator picks the names).
        self.any_file = False
        self._next = 1

    def add_voicemail(
        self, extension: str, caller: str, epoch: int, duration: int = 7
    ) -> tuple[str, str]:
        """Add a voicemail with a real MP3 file; return its id and URL."""
        message_id = str(self._next)
        self._next += 1
        path = (
            f"{self.file_prefix}/voicemail/{DOMAIN}/{extension}/INBOX/"
            f"msg{epoch}-{int(message_id):04d}.mp3"
        )
        self.files[path] = FakeFile(mp3_bytes(), "audio/mpeg")
        self.voicemails[message_id] = {
            "id": message_id,
            "extension": extension,
            "caller": caller,
            "time": epoch,
            "duration": duration,
            "path": path,
            "read": False,
        }
        return message_id, self.url + path

    def add_file(self, path: str) -> None:
        """Serve a real audio file of about ten seconds at a path (MP3 for `.mp3`, else WAV)."""
        if path.endswith(".mp3"):
            self.files[path] = FakeFile(mp3_bytes(frames=400), "audio/mpeg")
        else:
            self.files[path] = FakeFile(wav_bytes(seconds=10), "audio/wav")

    def add_recording(self, name: str, seconds: float = 1.0) -> str:
        """Add a recording with a real WAV file; return its URL."""
        path = f"{self.file_prefix}/recordings/{name[:10]}/{name}"
        self.files[path] = FakeFile(wav_bytes(seconds), "audio/wav")
        return self.url + path

    def record(self, voicemail: dict[str, Any]) -> dict[str, Any]:
        """Return a voicemail as the list shows it, in the chosen style."""
        url = self.url + voicemail["path"]
        if self.record_style == "dated":
            return {
                "messageId": voicemail["id"],
                "user": voicemail["extension"],
                "callerNumber": voicemail["caller"],
                "date": datetime.fromtimestamp(
                    voicemail["time"] + self.date_offset_hours * 3600, UTC
                ).strftime("%Y-%m-%d %H:%M:%S"),
                "length": voicemail["duration"],
                "link": url,
                "unread": not voicemail["read"],
            }
        if self.record_style == "asterisk":
            return {
                "msgId": voicemail["id"],
                "mailbox": f"{voicemail['extension']}@default",
                "callerid": voicemail["caller"],
                "origtime": str(voicemail["time"]),
                "duration": str(voicemail["duration"]),
                "file": url,
                "folder": "Old" if voicemail["read"] else "INBOX",
            }
        record = {
            key: voicemail[key]
            for key in ("id", "extension", "caller", "time", "duration")
        } | {"url": url}
        if self.read_flag is not None:
            record[self.read_flag] = voicemail["read"]
        return record

    def routes(self) -> list[tuple[str, str, Any]]:
        """Return the API routes (method, pattern, handler) for the fake PBX."""
        return [
            ("GET", r"/api/v1/voicemail", self._list),
            ("PUT", r"/api/v1/voicemail/(?P<id>[^/]+)", self._mark_read),
            ("DELETE", r"/api/v1/voicemail/(?P<ids>[^/]+)", self._delete),
        ]

    async def serve_file(
        self, request: web.Request, authorized: bool
    ) -> web.StreamResponse | None:
        """Answer a file request, or None if the path is no file route."""
        path = request.path
        if not path.startswith(f"{self.file_prefix}/"):
            return None
        if "moved" in request.query:
            path = request.query["moved"]
        elif self.redirect is not None:
            host = self.url if self.redirect == "same" else "http://other.invalid"
            raise web.HTTPFound(f"{host}{path}?moved={path}")
        if self.file_auth == "bearer" and not authorized:
            return web.Response(status=401, text="Unauthorized")
        if path not in self.files and self.any_file:
            self.add_file(path)
        if (found := self.files.get(path)) is None:
            return web.Response(status=404, text="Not found")
        return web.Response(
            body=found.body,
            headers={"Content-Type": self.content_type or found.content_type},
        )

    def _missing(self) -> web.Response | None:
        if self.voicemail_missing:
            return web.json_response(
                {"type": "error", "reason": "404 Not Found", "code": 404}, status=404
            )
        return None

    async def _list(self, request: web.Request, _: dict[str, str]) -> web.Response:
        if (missing := self._missing()) is not None:
            return missing
        records = [self.record(item) for item in self.voicemails.values()]
        return web.json_response(
            {"type": "result", "result": {"records": records, "total": len(records)}}
        )

    async def _mark_read(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        if (missing := self._missing()) is not None:
            return missing
        if (voicemail := self.voicemails.get(match["id"])) is None:
            return web.json_response(
                {"type": "error", "reason": "Not found", "code": 404}, status=404
            )
        if (refused := self._write_refused()) is not None:
            return refused
        voicemail["read"] = True
        return self._written()

    async def _delete(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        if (missing := self._missing()) is not None:
            return missing
        if (refused := self._write_refused()) is not None:
            return refused
        for message_id in match["ids"].split(","):
            if (voicemail := self.voicemails.pop(message_id, None)) is not None:
                self.files.pop(voicemail["path"], None)
        return self._written()

    def _write_refused(self) -> web.Response | None:
        if self.write_answer == "refused":
            return web.json_response(
                {"type": "error", "reason": "Permission denied", "code": 403}
            )
        if self.write_answer == "html":
            return web.Response(
                status=400, text="<html>Bad request</html>", content_type="text/html"
            )
        return None

    def _written(self) -> web.Response:
        match self.write_answer:
            case "empty":
                return web.Response(status=204)
            case "success":
                return web.json_response("Success")
            case "object":
                return web.json_response({})
        return web.json_response({"type": "result", "result": "Success"})
