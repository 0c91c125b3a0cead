"""Fixtures for the reference CLI's own tests.

Every CLI run gets a fresh HOME / XDG_CONFIG_HOME / CONVOX_CONFIG and an
environment scrubbed of the caller's ``CONVOX_*`` variables, so these tests can
never read or touch the real ``~/.convox``.  Servers are loopback-only TLS
servers with certificates from a per-session trustme CA.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[2]
CERT_NAMES = ("127.0.0.1", "localhost", "::1", "console.convox.com", "*.convox.test")
SCRUBBED_PREFIXES = ("CONVOX_",)
SCRUBBED = {"RACK_URL", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PYTHONPATH"}


def basic(key: str) -> str:
    """The Authorization header a key must produce, computed independently."""
    return "Basic " + base64.b64encode(("convox:" + key).encode("utf-8")).decode("ascii")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that could steer the CLI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SCRUBBED_PREFIXES) and k not in SCRUBBED
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every path under ``root`` with its bytes (None for dirs) and mode."""
    result: dict[str, tuple[bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode & 0o777
        data = path.read_bytes() if path.is_file() else None
        result[str(path.relative_to(root))] = (data, mode)
    return result


class Cli:
    """One isolated user: a temp HOME and the environment to run the CLI in it."""

    def __init__(self, home: Path, ca_file: Path) -> None:
        self.home = home
        self.config = home / ".convox"
        self.env = clean_env(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            CONVOX_CONFIG=str(self.config),
            SSL_CERT_FILE=str(ca_file),
            CONVOX_TIMEOUT="5",
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "reference_cli", *args]

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 30,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run without a terminal (new session, stdin closed) and check the basics
        every run must satisfy: no traceback, errors are exactly one line."""
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            self.command(*args),
            env=full_env,
            cwd=str(cwd or self.home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            start_new_session=True,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stdout, proc.stdout
        if proc.returncode != 0:
            assert proc.returncode == 1, (proc.returncode, proc.stderr)
            lines = proc.stderr.splitlines()
            assert len(lines) == 1, proc.stderr
            assert lines[0].startswith("ERROR: "), proc.stderr
        return proc

    def read(self, name: str) -> str | None:
        path = self.config / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    def auth(self) -> dict[str, str] | None:
        import json

        text = self.read("auth")
        return None if text is None else json.loads(text)

    def write(self, name: str, text: str | bytes, mode: int = 0o600) -> None:
        self.config.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.config / name
        if isinstance(text, str):
            text = text.encode("utf-8")
        path.write_bytes(text)
        path.chmod(mode)

    def snapshot(self) -> dict[str, tuple[bytes | None, int]]:
        return snapshot(self.home)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*CERT_NAMES).configure_cert(context)
    return context


@pytest.fixture(scope="module")
def tls_server(server_context: ssl.SSLContext) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def server(tls_server: HTTPServer) -> Iterator[HTTPServer]:
    """A clean TLS server per test (handlers and request log reset)."""
    tls_server.clear()
    yield tls_server
    tls_server.clear()


@pytest.fixture
def host(server: HTTPServer) -> str:
    """The server as the CLI's login target (``127.0.0.1:port``)."""
    return f"127.0.0.1:{server.port}"


@pytest.fixture
def cli(tmp_path: Path, ca_file: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home, ca_file)


class RawTlsServer:
    """A loopback TLS server that answers every request with fixed raw bytes
    (or never answers), for framing faults pytest-httpserver cannot produce."""

    def __init__(self, context: ssl.SSLContext, response: bytes | None) -> None:
        self.context = context
        self.response = response
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                raw, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            conn = self.context.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.requests += 1
            if self.response is None:
                self.stopped.wait(10)
            else:
                conn.sendall(self.response)
            conn.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            raw.close()

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def raw_server(server_context: ssl.SSLContext) -> Iterator[type[RawTlsServer]]:
    started: list[RawTlsServer] = []

    def factory(response: bytes | None) -> RawTlsServer:
        srv = RawTlsServer(server_context, response)
        started.append(srv)
        return srv

    yield factory  # type: ignore[misc]
    for srv in started:
        srv.close()
