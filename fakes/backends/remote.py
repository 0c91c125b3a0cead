"""The remote backend: worlds served by `convox-conformance serve` processes.

Why: a large matrix spreads over machines with pytest-xdist (``--tx``), and
the fakes must then be reachable from wherever a worker runs. This backend
implements the same `Backend` / `WorldHandle` seam as the in-process one,
but every world lives in a serve process and is driven through its JSON
admin API (``POST /worlds`` per check, ``DELETE`` when it ends), so the
checks cannot tell the difference. The connection is
:mod:`fakes.backends.remote_client`, a world's handle, journal and faults
:mod:`fakes.backends.remote_world`; this module is the backend (the entry
point ``remote``) and their public names.

URLs come from ``--serve URL`` (repeatable) or ``CONVOX_CONFORMANCE_SERVE``
(comma or space separated). With several, worlds are spread round-robin,
starting at a different serve per xdist worker. The CLI under test still
runs next to pytest and must reach the serve machine's listeners; serve
binds loopback only, so in this project "remote" means another process on
the same machine (see README "Running at scale").
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from fakes.backends.in_process import BackendError
from fakes.backends.remote_client import DEFAULT_TIMEOUT, AdminClient, RemoteError
from fakes.backends.remote_world import RemoteFaultHandle, RemoteJournal, RemoteWorld
from fakes.model.world import CURRENT_API, WorldError

SERVE_ENV = "CONVOX_CONFORMANCE_SERVE"


class RemoteBackend:
    """Worlds from one or more `convox-conformance serve` admin APIs."""

    name = "remote"

    def __init__(
        self, urls: Sequence[str] | str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        if urls is None:
            urls = os.environ.get(SERVE_ENV, "")
        if isinstance(urls, str):
            urls = [u for u in re.split(r"[\s,]+", urls) if u]
        if not urls:
            raise BackendError(
                f"backend remote needs a serve admin URL: --serve http://127.0.0.1:PORT "
                f"or {SERVE_ENV}=http://127.0.0.1:PORT (from `convox-conformance serve`)"
            )
        self.clients = [AdminClient(url, timeout) for url in urls]
        worker = re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "")) or "0"
        self._next = itertools.count(int(worker))
        self._dir: Path | None = None
        self._open: dict[int, RemoteWorld] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Fetch every serve's CA into one bundle: the CLI may meet any of them."""
        if self._dir is not None:
            return
        pems = []
        for client in self.clients:
            status, pem = client.raw("GET", "/ca")
            if status != 200 or b"BEGIN CERTIFICATE" not in pem:
                raise RemoteError(
                    f"{client.url} answered GET /ca with {status}: is it convox-conformance serve?"
                )
            pems.append(pem.strip() + b"\n")
        directory = Path(tempfile.mkdtemp(prefix="convox-conformance-remote-"))
        (directory / "ca.pem").write_bytes(b"".join(pems))
        self._dir = directory

    def stop(self) -> None:
        """Delete the worlds still open, forget the CA bundle, close connections."""
        with self._lock:
            worlds = list(self._open.values())
            self._open.clear()
        for world in worlds:
            with contextlib.suppress(WorldError, RemoteError):
                world.close()
        for client in self.clients:
            client.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> RemoteBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ca_bundle(self) -> Path:
        self.start()
        assert self._dir is not None
        return self._dir / "ca.pem"

    def new_world(self, name_or_path: str | Path, rack_api: str = CURRENT_API) -> RemoteWorld:
        """A fresh world; a local world file is sent as text (serve may be elsewhere)."""
        self.start()
        client = self.clients[next(self._next) % len(self.clients)]
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
            path = Path(name_or_path)
            try:
                body = {"name": path.stem, "toml": path.read_text(encoding="utf-8")}
            except OSError as exc:
                raise ValueError(f"{path}: cannot read world file: {exc.strerror}") from None
        else:
            body = {"name": text}
        body["rack_api"] = rack_api
        try:
            description = client.call("POST", "/worlds", body)
        except WorldError as exc:
            raise ValueError(exc.message) from None
        world = RemoteWorld(client, description, self._forget)
        with self._lock:
            self._open[id(world)] = world
        return world

    def _forget(self, world: RemoteWorld) -> None:
        with self._lock:
            self._open.pop(id(world), None)


__all__ = ["DEFAULT_TIMEOUT", "SERVE_ENV", "AdminClient", "RemoteBackend", "RemoteError",
           "RemoteFaultHandle", "RemoteJournal", "RemoteWorld"]
