"""Fault plans, and each fault kind reaching a real client as that fault."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time

import pytest

from fakes.http.faults import MAX_DELAY, PROXY_SNI, Fault, FaultPlan, hop_for_sni
from fakes.http.listener import HttpResponse, json_response
from tests.fakes.http_support import Reply, request

REF = "acme/production"
ALICE = "alice@example.com"


# -- the plan itself (no sockets) ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "status", "hop": "sideways"}, "unknown hop"),
        ({"kind": "status", "status": 99}, "100..599"),
        ({"kind": "status", "status": 600}, "100..599"),
        ({"kind": "delay"}, "delay"),
        ({"kind": "delay", "delay": MAX_DELAY + 1}, "delay"),
        ({"kind": "reset", "times": 0}, "times"),
        ({"kind": "reset", "probability": 1.5}, "probability"),
        ({"kind": "tls_failure", "path": "/auth"}, "before any request"),
    ],
)
def test_invalid_faults_are_refused(fields, message) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(server="console", **fields)


def test_from_dict_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_dict({"server": "console", "kind": "reset", "colour": "red"})
    with pytest.raises(ValueError, match="at least"):
        Fault.from_dict({"kind": "reset"})
    fault = Fault.from_dict({"server": "console", "kind": "status", "status": 503})
    assert Fault.from_dict(fault.to_dict()) == fault


def test_matching_by_server_path_method_and_hop() -> None:
    fault = Fault(server="acme/prod", kind="reset", path="/apps/*", method="get", hop="proxy")
    assert fault.matches("acme/prod", "GET", "/apps/web", "proxy")
    assert not fault.matches("console", "GET", "/apps/web", "proxy")
    assert not fault.matches("acme/prod", "PUT", "/apps/web", "proxy")
    assert not fault.matches("acme/prod", "GET", "/system", "proxy")
    assert not fault.matches("acme/prod", "GET", "/apps/web", "cli")
    assert Fault(server="console", kind="reset", path="/auth").matches(
        "console", "GET", "/auth", "cli"
    )


def test_tls_faults_match_handshakes_only() -> None:
    tls = Fault(server="console", kind="tls_failure")
    plain = Fault(server="console", kind="reset")
    assert tls.matches("console", None, None, "cli")
    assert not tls.matches("console", "GET", "/auth", "cli")
    assert not plain.matches("console", None, None, "cli")
    assert hop_for_sni(PROXY_SNI) == "proxy" and hop_for_sni(None) == "cli"


def test_times_limits_firing_and_handles_count() -> None:
    plan = FaultPlan()
    handle = plan.add(Fault(server="console", kind="reset", times=2))
    fired = [plan.match("console", "GET", "/auth", "cli") is not None for _ in range(4)]
    assert fired == [True, True, False, False]
    assert handle.fired == 2 and not handle.active


def test_remove_and_clear() -> None:
    plan = FaultPlan()
    first = plan.add(Fault(server="console", kind="reset"))
    second = plan.add(Fault(server="console", kind="empty"))
    assert plan.match("console", "GET", "/", "cli") == first.fault  # first added wins
    first.remove()
    assert plan.match("console", "GET", "/", "cli") == second.fault
    assert plan.handle(second.id) is second and plan.handle(first.id) is None
    plan.clear()
    assert plan.match("console", "GET", "/", "cli") is None
    assert not second.active


def test_probability_is_seeded_and_repeatable() -> None:
    def run(seed: int) -> list[bool]:
        plan = FaultPlan()
        plan.add(Fault(server="console", kind="reset", probability=0.5, seed=seed))
        return [plan.match("console", "GET", "/", "cli") is not None for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 60 < sum(run(7)) < 140


def test_plan_is_thread_safe() -> None:
    plan = FaultPlan()
    handle = plan.add(Fault(server="console", kind="reset", times=500))
    hits: list[int] = []

    def worker() -> None:
        hits.append(sum(plan.match("console", "GET", "/", "cli") is not None for _ in range(200)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(hits) == 500 == handle.fired


def test_responses_per_kind() -> None:
    def real() -> HttpResponse:
        return json_response(200, {"ok": True})

    status = Fault(server="c", kind="status", status=418, body={"error": "teapot"}).respond(real)
    assert (status.status, json.loads(status.body)) == (418, {"error": "teapot"})
    text = Fault(server="c", kind="status", status=503, body="down").respond(real)
    assert (text.status, text.body, text.headers["Content-Type"]) == (503, b"down", "text/plain")
    default = Fault(server="c", kind="status", status=500).respond(real)
    assert "injected" in json.loads(default.body)["error"]
    assert Fault(server="c", kind="delay", delay=1).respond(real).delay == 1
    assert Fault(server="c", kind="reset").respond(real).transport == "reset"
    assert Fault(server="c", kind="empty").respond(real).transport == "empty"
    assert Fault(server="c", kind="truncated").respond(real).transport == "truncated"
    broken = Fault(server="c", kind="malformed_json").respond(real)
    assert broken.status == 200
    with pytest.raises(ValueError):
        json.loads(broken.body)


# -- over the wire ------------------------------------------------------------


PROXY_TIMEOUT = 0.5  # seconds Console waits on a rack in these tests


def call(world, backend, server: str, path: str = "/auth", *, rack: str | None = None) -> Reply:
    key = world.user_key(ALICE) if server == "console" else world.rack_key(server)
    return request(
        backend.client_context(), world.host(server), "GET", path, key=key, rack=rack, timeout=5
    )


SERVERS = ["console", REF]


@pytest.mark.parametrize("server", SERVERS)
def test_status_fault(world, backend, server) -> None:
    handle = world.inject(Fault(server=server, kind="status", status=503, body={"error": "down"}))
    reply = call(world, backend, server)
    assert (reply.status, reply.json()) == (503, {"error": "down"})
    assert handle.fired == 1
    world.journal.expect_one(server=server, status=503)


@pytest.mark.parametrize("server", SERVERS)
def test_delay_fault(world, backend, server) -> None:
    world.inject(Fault(server=server, kind="delay", delay=0.3))
    started = time.monotonic()
    assert call(world, backend, server).status == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("server", SERVERS)
def test_reset_fault_is_a_connection_reset(world, backend, server) -> None:
    world.inject(Fault(server=server, kind="reset"))
    with pytest.raises(ConnectionResetError):  # a hang would be a TimeoutError
        call(world, backend, server)


@pytest.mark.parametrize("server", SERVERS)
def test_empty_fault_is_no_answer(world, backend, server) -> None:
    world.inject(Fault(server=server, kind="empty"))
    with pytest.raises(http.client.RemoteDisconnected):
        call(world, backend, server)


@pytest.mark.parametrize("server", SERVERS)
def test_malformed_json_fault(world, backend, server) -> None:
    world.inject(Fault(server=server, kind="malformed_json"))
    reply = call(world, backend, server)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        reply.json()


@pytest.mark.parametrize("server", SERVERS)
def test_truncated_fault(world, backend, server) -> None:
    world.inject(Fault(server=server, kind="truncated"))
    with pytest.raises(http.client.IncompleteRead):
        call(world, backend, server)


@pytest.mark.parametrize("server", SERVERS)
def test_tls_failure_fault(world, backend, server) -> None:
    handle = world.inject(Fault(server=server, kind="tls_failure", times=1))
    with pytest.raises(ssl.SSLError):
        call(world, backend, server)
    assert handle.fired == 1
    assert call(world, backend, server).status == 200  # times=1: the next handshake works


@pytest.mark.parametrize("server", SERVERS)
def test_untrusted_certificate_fault(world, backend, server) -> None:
    """The handshake completes, with a certificate the run's CA did not issue."""
    handle = world.inject(Fault(server=server, kind="untrusted_certificate", times=1))
    with pytest.raises(ssl.SSLCertVerificationError):
        call(world, backend, server)
    assert handle.fired == 1
    assert world.journal.entries(server=server) == []  # no request got through
    assert call(world, backend, server).status == 200


def test_untrusted_certificate_names_the_same_hosts(world, backend) -> None:
    """Only the issuer differs from the run's certificate, so only verification can tell."""
    from cryptography import x509

    world.inject(Fault(server="console", kind="untrusted_certificate"))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", world.port("console"), context=context,
                                       timeout=5)
    try:
        conn.request("GET", "/auth")
        assert conn.getresponse().status == 401  # served by Console, which saw no key
        der = conn.sock.getpeercert(binary_form=True)
    finally:
        conn.close()
    cert = x509.load_der_x509_certificate(der)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "console.convox.com" in names.get_values_for_type(x509.DNSName)
    run_ca = x509.load_pem_x509_certificate(backend.ca_bundle().read_bytes())
    assert cert.issuer != run_ca.subject


def test_fault_scoped_to_a_path_and_method(world, backend) -> None:
    world.inject(Fault(server="console", kind="status", status=500, path="/racks", method="GET"))
    assert call(world, backend, "console", "/auth").status == 200
    assert call(world, backend, "console", "/racks").status == 500


def test_first_n_then_normal(world, backend) -> None:
    world.inject(Fault(server="console", kind="status", status=429, times=2))
    statuses = [call(world, backend, "console").status for _ in range(3)]
    assert statuses == [429, 429, 200]


def test_removed_fault_stops_firing(world, backend) -> None:
    handle = world.inject(Fault(server="console", kind="reset"))
    with pytest.raises(ConnectionResetError):
        call(world, backend, "console")
    handle.remove()
    assert call(world, backend, "console").status == 200
    world.inject(Fault(server="console", kind="reset"))
    world.clear_faults()
    assert call(world, backend, "console").status == 200


def test_inject_refuses_an_unknown_server(world) -> None:
    with pytest.raises(ValueError, match="not in this world"):
        world.inject(Fault(server="acme/ghost", kind="reset"))


# -- the proxy hop --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extra", "cause"),
    [
        ("reset", {}, "reset"),
        ("empty", {}, "without answering"),
        ("truncated", {}, "cut short"),
        ("tls_failure", {}, "TLS"),
        ("delay", {"delay": 1.0}, "timeout"),
    ],
)
def test_proxy_hop_faults_become_a_502_naming_the_rack(world, backend, kind, extra, cause) -> None:
    handle = world.inject(Fault(server=REF, kind=kind, hop="proxy", **extra))
    reply = call(world, backend, "console", "/apps", rack=REF)
    assert reply.status == 502
    assert REF in reply.error and cause in reply.error
    assert handle.fired == 1
    # the same rack still answers the CLI directly: the fault is on the proxy hop only
    assert call(world, backend, REF, "/apps").status == 200


def test_proxy_hop_status_and_malformed_bodies_are_relayed(world, backend) -> None:
    world.inject(Fault(server=REF, kind="status", status=503, hop="proxy", times=1))
    world.inject(Fault(server=REF, kind="malformed_json", hop="proxy", times=1))
    first = call(world, backend, "console", "/apps", rack=REF)
    assert first.status == 503 and "injected" in first.error
    second = call(world, backend, "console", "/apps", rack=REF)
    assert second.status == 200
    with pytest.raises(ValueError):
        second.json()


def test_cli_hop_fault_on_console_never_reaches_the_rack(world, backend) -> None:
    world.inject(Fault(server="console", kind="reset", hop="cli"))
    with pytest.raises(ConnectionResetError):
        call(world, backend, "console", "/apps", rack=REF)
    world.journal.expect_none(server=REF)
