"""The remote backend's connection to a serve process: JSON over kept-alive HTTP.

One `AdminClient` per serve admin URL; every world the remote backend makes
there is driven through it. A refusal comes back as the same `WorldError`
the in-process world raises, so a check cannot tell the two apart.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from typing import Any

from fakes.backends.in_process import BackendError
from fakes.model.world import WorldError

DEFAULT_TIMEOUT = 30.0


class RemoteError(RuntimeError):
    """The serve process could not be reached or answered nonsense; one line."""


class AdminClient:
    """JSON over one kept-alive HTTP connection to a serve admin API; thread-safe.

    Checks call the world from several threads at once (parallel logins), so
    calls are serialised on a lock; each is a few hundred microseconds.
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise BackendError(f"serve admin URL must look like http://127.0.0.1:PORT, not {url!r}")
        self.url = f"http://{parsed.hostname}:{parsed.port}"
        self._host = parsed.hostname
        self._port = parsed.port
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._used = False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer; WorldError for a refusal (as the in-process world raises)."""
        status, data = self.raw(method, path, body)
        try:
            answer = json.loads(data) if data.strip() else None
        except ValueError:
            raise RemoteError(f"{self.url}{path}: not JSON: {data[:80]!r}") from None
        if status >= 400:
            message = answer.get("error", "") if isinstance(answer, dict) else str(answer)
            raise WorldError(status, message)
        return answer

    def raw(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                reused = self._used
                try:
                    conn.request(method, path, body=payload, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (http.client.HTTPException, OSError) as exc:
                    self._drop()
                    # A kept-alive connection the server closed while idle: try a fresh one.
                    if attempt == 1 and reused and not isinstance(exc, TimeoutError):
                        continue
                    raise RemoteError(
                        f"cannot reach convox-conformance serve at {self.url}: {exc}"
                    ) from None
                self._used = True
                if response.will_close:
                    self._drop()
                return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._used = False

    def close(self) -> None:
        with self._lock:
            self._drop()


__all__ = ["DEFAULT_TIMEOUT", "AdminClient", "RemoteError"]
