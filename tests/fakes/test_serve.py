"""`convox-conformance serve` as a subprocess, its admin API, and the no-leak proof.

The leak tests search every byte the fakes emitted (HTTP answers on both
hops, the journal, the admin API, serve's stdout and stderr) for every rack
key that ever existed. The only rack keys a user may ever be shown are those
of racks they installed themselves (not in Console), which `serve` prints as
login lines; those are excluded by construction in the subprocess test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from fakes.backends.in_process import LocalWorld
from fakes.backends.serve import Admin, main
from fakes.http.faults import Fault
from tests.fakes.http_support import Reply, request

ROOT = Path(__file__).resolve().parents[2]
ALICE = "alice@example.com"
BOB = "bob@example.com"
REF = "acme/production"


def leaks(key: str, emitted: bytes, window: int = 16) -> bool:
    """Whether any 16-character piece of `key`, or its basic-auth form, appears.

    Pieces, not just the whole key: a message quoting half a key is a leak too.
    (Console's masked form shows only the last four characters.)
    """
    encoded = base64.b64encode(f"convox:{key}".encode())
    pieces = {key[i : i + window] for i in range(max(1, len(key) - window + 1))}
    return encoded in emitted or any(piece.encode() in emitted for piece in pieces)


# -- the subprocess ---------------------------------------------------------------


@dataclass
class Served:
    proc: subprocess.Popen[str]
    lines: list[str]
    console: str
    ca: str
    admin: str
    logins: dict[str, tuple[str, str]]  # who -> (host, key)
    wire: list[bytes] = field(default_factory=list)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)

    def call(self, host: str, method: str, path: str, **kw: Any) -> Reply:
        reply = request(self.context(), host, method, path, **kw)
        self.wire.append(reply.wire())
        return reply

    def admin_call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.admin + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                raw, status = answer.read(), answer.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        self.wire.append(raw)
        return status, json.loads(raw)


def start_serve(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "fakes.backends.serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    proc = start_serve("--world", "standard", cwd=tmp_path)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip() == "Ready.":
            break
    else:  # pragma: no cover - only when serve died
        raise AssertionError(f"serve did not start: {lines} {proc.stderr and proc.stderr.read()}")
    text = "\n".join(lines)
    console = re.search(r"^Console:\s+https://(\S+)", text, re.M)
    ca = re.search(r"^CA file:\s+(\S+)", text, re.M)
    admin = re.search(r"^Admin API:\s+(http://\S+)", text, re.M)
    assert console and ca and admin, text
    logins = {
        who: (host, key)
        for host, key, who in re.findall(
            r"^convox login (\S+) --password (\S+)\s+# (\S+)", text, re.M
        )
    }
    handle = Served(proc, lines, console[1], ca[1], admin[1], logins)
    try:
        yield handle
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def refused(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def stop(served: Served) -> tuple[str, str]:
    served.proc.send_signal(signal.SIGINT)
    out, err = served.proc.communicate(timeout=15)
    assert served.proc.returncode == 0, err
    return out, err


def test_serve_prints_working_logins_and_the_admin_api_changes_the_world(served: Served) -> None:
    # Every user gets a login line against Console; the rack not in Console gets its own.
    assert set(served.logins) == {
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "erin@example.com",
        "acme/legacy",
    }
    host, key = served.logins[ALICE]
    assert host == served.console
    first = served.call(host, "GET", "/auth", key=key)
    assert first.status == 200 and first.json()["id"]
    rack_host, rack_key = served.logins["acme/legacy"]
    assert served.call(rack_host, "GET", "/auth", key=rack_key).status == 200

    status, world = served.admin_call("GET", "/world")
    assert status == 200 and world["console"] == served.console
    assert {u["email"]: u["key"] for u in world["users"]}[ALICE] == key
    production = next(r for r in world["racks"] if r["ref"] == REF)
    assert "key" not in production and production["console_key"].startswith("********")

    status, new = served.admin_call("POST", "/users/alice@example.com/regenerate-key")
    assert status == 200 and new["key"] != key
    assert served.call(host, "GET", "/auth", key=key).status == 401
    assert served.call(host, "GET", "/auth", key=new["key"]).status == 200

    out, err = stop(served)
    assert err == ""
    assert out.rstrip().endswith("stopped.")
    assert refused(served.console)
    assert refused(served.admin.removeprefix("http://"))


def test_serve_admin_api_drives_every_control(served: Served) -> None:
    alice = served.logins[ALICE][1]
    bob = served.logins[BOB][1]
    console = served.console

    def proxied(key: str, path: str = "/apps", method: str = "GET", **kw: Any) -> Reply:
        return served.call(console, method, path, key=key, rack=REF, **kw)

    assert proxied(alice).status == 200

    status, fault = served.admin_call(
        "POST", "/faults", {"server": "console", "kind": "status", "status": 503}
    )
    assert status == 200 and fault["id"]
    assert proxied(alice).status == 503
    assert served.admin_call("GET", "/faults")[1][0]["fired"] == 1
    assert served.admin_call("DELETE", "/faults")[0] == 200
    assert proxied(alice).status == 200

    assert served.admin_call("POST", "/racks/acme/production/roll")[1]["status"] == "updating"
    assert proxied(alice).status == 502
    assert served.admin_call("POST", "/advance", {"seconds": 301})[0] == 200
    assert proxied(alice).status == 200

    assert served.admin_call("POST", "/orgs/acme/plan", {"plan": "developer"})[0] == 200
    assert proxied(bob).status == 403
    assert served.admin_call("POST", "/orgs/acme/plan", {"plan": "pro"})[0] == 200
    assert proxied(bob).status == 200
    assert served.admin_call("DELETE", "/orgs/acme/members", {"email": BOB})[0] == 200
    assert proxied(bob).status == 403
    status, added = served.admin_call(
        "POST", "/orgs/acme/members", {"email": BOB, "role": "operator"}
    )
    assert status == 200 and added["role"] == "operator"
    assert proxied(bob).status == 200

    # Refusals come back as JSON errors naming the problem.
    status, error = served.admin_call(
        "POST", "/orgs/carol/members", {"email": BOB, "role": "developer"}
    )
    assert status == 409 and "personal" in error["error"]
    assert served.admin_call("POST", "/nowhere")[0] == 404
    assert served.admin_call("PUT", "/world")[0] == 405
    assert served.admin_call("POST", "/advance", {"seconds": "soon"})[0] == 400
    assert served.admin_call("POST", "/faults", {"server": "console", "kind": "melt"})[0] == 400

    journal = served.admin_call("GET", "/journal")[1]
    assert journal and {e["server"] for e in journal} >= {"console", REF}
    assert all(e["seq"] > 3 for e in served.admin_call("GET", "/journal?since=3")[1])

    stop(served)


def test_serve_never_emits_a_console_held_rack_key(served: Served) -> None:
    alice = served.logins[ALICE][1]
    staging = "acme/staging"
    known = "KnownStagingKey0KnownStagingKey0KnownSt"
    second = "SecondStagingKey1SecondStagingKey1Secon"
    # The operator sets the rack's password by hand: Console loses access...
    assert served.admin_call("POST", "/racks/acme/staging/password", {"password": known})[0] == 200
    assert served.call(served.console, "GET", "/apps", key=alice, rack=staging).status == 502
    # ...until the rack is removed and added again with the new key.
    assert served.admin_call("DELETE", "/racks/acme/staging/console")[0] == 200
    assert served.admin_call("POST", "/racks/acme/staging/console", {"key": known})[0] == 200
    assert served.call(served.console, "GET", "/apps", key=alice, rack=staging).status == 200
    # A password change through Console (the body carries the new key on both hops).
    body = "parameters=" + urllib.parse.quote(f"Password={second}", safe="")
    changed = served.call(served.console, "PUT", "/system", key=alice, rack=staging, body=body)
    assert changed.status == 200
    served.admin_call("POST", "/racks/acme/production/roll")
    served.call(served.console, "GET", "/system", key=alice, rack=REF)
    served.admin_call("GET", "/world")
    served.admin_call("GET", "/journal")
    out, err = stop(served)
    emitted = (
        b"\n".join(served.wire) + out.encode() + err.encode() + "\n".join(served.lines).encode()
    )
    for secret in (known, second):
        assert not leaks(secret, emitted)


# -- in-process -------------------------------------------------------------------


PROXY_TIMEOUT = 1.0  # seconds Console waits on a rack in these tests


def test_every_byte_the_fakes_emit_is_free_of_rack_keys(backend, world, capfd) -> None:
    """Drive every route, on both hops, through rolls, password changes and faults."""
    wire: list[bytes] = []
    context = backend.client_context()
    model = world.world

    def call(server: str, method: str, path: str, **kw: Any) -> None:
        with contextlib.suppress(OSError):  # injected transport faults
            wire.append(request(context, world.host(server), method, path, **kw).wire())

    users = [u.email for u in model.users()]
    racks = [r.ref for r in model.racks()]
    paths = ["/auth", "/auth?", "/racks", "/system", "/apps", "/nowhere", "/apps/web/parameters"]

    def sweep() -> None:
        for email in users:
            for path in paths:
                call("console", "GET", path, key=world.user_key(email))
                for ref in racks:
                    call("console", "GET", path, key=world.user_key(email), rack=ref)
        for ref in racks:
            for path in paths:
                call(ref, "GET", path, key=world.rack_key(ref))
                call(ref, "GET", path, key=world.user_key(ALICE))
        for deploy in model.deploy_keys():
            call("console", "GET", "/system", key=deploy.key, rack=REF)

    with freeze_time("2024-06-01 00:00:00") as frozen:
        sweep()
        for ref in racks:
            if model.rack(ref).console != "none":
                world.roll_rack_key(ref)
        sweep()  # during the update window: 502s that must not quote a key
        frozen.tick(301)
        sweep()
        new = "ManualLeakProbeKeyManualLeakProbeKey1234"
        body = "parameters=" + urllib.parse.quote(f"Password={new}", safe="")
        call("console", "PUT", "/system", key=world.user_key(ALICE), rack=REF, body=body)
        call(
            "acme/staging",
            "PUT",
            "/apps/staging/parameters",
            key=world.rack_key("acme/staging"),
            body="Password=ClassicLeakProbeKeyClassicLeakProbe12",
        )
        sweep()
        world.remove_rack_from_console(REF)
        world.add_rack_to_console(REF, new)
        for kind in ("status", "malformed_json", "truncated", "reset", "empty"):
            world.inject(Fault(server=REF, kind=kind, hop="proxy", times=1))
            call("console", "GET", "/apps", key=world.user_key(ALICE), rack=REF)
        sweep()

    rack_keys = [k for k in world.secrets() if world.key_identity(k).startswith("rack:")]
    rack_keys += [model.rack_key(ref) for ref in racks]
    assert len(set(rack_keys)) >= 2 * len(racks)
    journal = json.dumps(world.journal.to_dicts()).encode()
    out, err = capfd.readouterr()
    emitted = b"\n".join(wire) + journal + out.encode() + err.encode()
    assert len(wire) > 500
    leaked = [world.key_identity(k) for k in set(rack_keys) if leaks(k, emitted)]
    assert leaked == []
    # the journal still tells who sent what
    assert world.journal.entries(key="rack:acme/production#2")


def test_admin_routes_in_process(world: LocalWorld) -> None:
    admin = Admin(world, "standard", "127.0.0.1:{port}", "/ca.pem")
    status, snapshot = admin.handle("GET", "/world", "", None)
    assert status == 200 and snapshot["world"] == "standard"
    legacy = next(r for r in snapshot["racks"] if r["ref"] == "acme/legacy")
    assert legacy["key"] == world.rack_key("acme/legacy")  # installed by CLI: the user has it
    held = [r for r in snapshot["racks"] if r["console"] != "none"]
    assert all("key" not in r for r in held)
    # A deploy key is a secret: only test worlds (reveal_keys) serve it.
    assert admin.handle("GET", "/deploy-keys/acme/ci/key", "", None)[0] == 403
    revealing = Admin(world, "standard", "127.0.0.1:{port}", "/ca.pem", reveal_keys=True)
    assert revealing.handle("GET", "/deploy-keys/acme/ci/key", "", None) == (
        200, {"ref": "acme/ci", "key": world.deploy_key("acme/ci")})
    assert revealing.handle("GET", "/deploy-keys/acme/nope/key", "", None)[0] == 404
    assert admin.handle("POST", "/finish-rack-updates", "", None)[0] == 200
    assert admin.handle("POST", "/racks/acme/ghost/roll", "", None)[0] == 404
    assert admin.handle("POST", "/racks/acme/production/password", "", {})[0] == 400
    assert admin.handle("POST", "/orgs/acme/plan", "", {"plan": "gold"})[0] == 400
    assert admin.handle("POST", "/users/nobody@example.com/regenerate-key", "", None)[0] == 404
    assert admin.handle("GET", "/journal", "since=x", None)[0] == 400
    status, fault = admin.handle("POST", "/faults", "", {"server": "console", "kind": "reset"})
    assert status == 200
    assert admin.handle("DELETE", f"/faults/{fault['id']}", "", None)[0] == 200
    assert admin.handle("DELETE", f"/faults/{fault['id']}", "", None)[0] == 404
    assert admin.handle("DELETE", "/orgs/acme/members/bob@example.com", "", None)[0] == 200
    assert admin.handle("POST", "/orgs/acme/members", "", [1])[0] == 400


def test_bad_world_file_fails_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[users]]\nemail = "a@example.com"\n[[organizations]]\nname = "o"\n'
        'plan = "gold"\nowner = "a@example.com"\n'
    )
    proc = start_serve("--world", str(bad), cwd=tmp_path)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == ""
    assert err.count("\n") == 1 and "organizations[0].plan" in err and "Traceback" not in err


def test_unknown_world_name_fails_with_one_line(capsys) -> None:
    assert main(["--world", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "atlantis" in err


def test_bad_form_is_refused(capsys) -> None:
    assert main(["--form", "localhost"]) == 2
    assert "{port}" in capsys.readouterr().err
