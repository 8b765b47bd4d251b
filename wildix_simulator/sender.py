"""POST events to a webhook URL the way Wildix does, over one kept-alive connection."""

import http.client
from urllib.parse import urlsplit

SIGNATURE_HEADER = "x-signature"


class Unreachable(Exception):
    """The URL could not be reached at all."""


class HttpSender:
    """Posts signed bodies to one URL and returns the HTTP status."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        """Prepare to post to a URL (http or https)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, signature: str) -> int:
        """Post a body with its signature; return the status Home Assistant answered."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            "User-Agent": "wildix-simulator",
        }
        for attempt in range(2):
            connection = self._connect()
            try:
                connection.request("POST", self._path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (http.client.HTTPException, OSError) as err:
                self.close()
                # A kept-alive connection the server closed fails once; retry on a new one.
                if attempt == 1 or isinstance(
                    err, ConnectionRefusedError | TimeoutError
                ):
                    raise Unreachable(str(err) or type(err).__name__) from err
            else:
                if response.will_close:
                    self.close()
                return response.status
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._https
                else http.client.HTTPConnection
            )
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection
