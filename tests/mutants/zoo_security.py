"""Mutants that break the SECURITY rules."""

from collections.abc import Callable

from reference_cli import calls, errors, files, hosts, transport
from reference_cli.commands import login
from tests.mutants import Zoo, sealed

zoo = Zoo()


@zoo.mutant("SECURITY-004", "prints the key after a successful login",
            also=("LOGIN-009",))  # whose check wants the typed key in no output either
def security_prints_key() -> None:
    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        original(host, key, ident)
        print(f"stored key {key} for {host}")

    login.store_login = store


@zoo.mutant("SECURITY-005", "writes auth readable by everyone")
def security_world_readable_auth() -> None:
    files.AUTH_MODE = 0o644


# Not in the default precision run: the v2 and v3 emulations, which run there, do this.
@zoo.mutant("SECURITY-001", "percent-encodes the key before sending it")
def security_percent_encodes_key() -> None:
    from urllib.parse import quote

    original = transport.basic_auth_header
    transport.basic_auth_header = lambda key: original(quote(key, safe=""))


@zoo.mutant("SECURITY-001", "drops a base64 key's trailing = padding before sending it")
def security_strips_key_padding() -> None:
    original = transport.basic_auth_header
    transport.basic_auth_header = lambda key: original(key.rstrip("="))


@zoo.mutant("SECURITY-002", "probes a new login target with the current host's key first",
            # the probe is a request with another host's key, which all of these forbid
            also=("LOGIN-010", "PROXY-004", "PROXY-005", "SECURITY-001"))
def security_probes_with_current_key() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        current = files.read_host()
        stored = files.read_auth().get(current) if current else None
        if stored and current != host and stored != key:
            try:
                resp = calls.send_request(host, stored, "GET", "/auth")
                if resp.status == 200:
                    key = stored
            except errors.CliError:
                pass
        return original(host, key)

    login.validate_login = validate


def after_each_login(reach_out: Callable[[], None]) -> None:
    """Run ``reach_out`` after every login is stored, only inside the sandbox (sealed):
    on the host network an attempt to reach outside would leave the machine."""
    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        original(host, key, ident)
        if sealed():
            reach_out()

    login.store_login = store


# Not in the default precision run: security-egress-without-a-request, which runs
# there, reaches outside the world too, and sends nothing, the harder case.
@zoo.mutant("SECURITY-003", "reports each login to an analytics host, like the classic CLI")
def security_phones_home() -> None:
    def report() -> None:
        try:
            conn = transport.open_connection("api.segment.io", 2.0)
            try:
                conn.request("POST", "/v1/track", body=b'{"event": "cli-login"}')
                conn.getresponse().read()
            finally:
                conn.close()
        except Exception:
            pass

    after_each_login(report)


@zoo.mutant("SECURITY-003", "at login, resolves an analytics host and opens TLS to it, which "
            "fails against the system's roots before any request is sent",
            # A lookup and a handshake are the attempt: SECURITY-003's finding alone.
            precision=True)
def security_egress_without_a_request() -> None:
    def handshake() -> None:
        import socket
        import ssl

        try:
            address = socket.getaddrinfo("stats.convox-telemetry.io", 443,
                                         type=socket.SOCK_STREAM)[0][4]
            with socket.create_connection(address[:2], timeout=2.0) as sock:
                # The system's roots, not the world's: the guard's certificate fails.
                context = ssl.create_default_context()
                with context.wrap_socket(sock, server_hostname="stats.convox-telemetry.io"):
                    pass
        except (OSError, ssl.SSLError):
            pass

    after_each_login(handshake)


@zoo.mutant("SECURITY-006", "creates the config directory world-writable")
def security_world_writable_config_dir() -> None:
    files.CONFIG_DIR_MODE = 0o777


@zoo.mutant("SECURITY-007", "retries over plain http:// when the TLS handshake fails",
            also=("SECURITY-008",))  # an unverified certificate is a failed handshake too
def security_falls_back_to_plain_http() -> None:
    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        try:
            return original(host, key, method, path, rack, body, content_type)
        except errors.TransportError as exc:
            if "TLS" not in str(exc):
                raise
        import http.client

        name, port = hosts.split_host(host)
        conn = http.client.HTTPConnection(name, port, timeout=transport.request_timeout())
        try:
            headers = transport.request_headers(key, rack, content_type)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            got = {k.lower(): v for k, v in resp.getheaders()}
            return transport.Response(resp.status, resp.reason or "", got, data)
        except OSError as exc:
            raise errors.TransportError(f"plain HTTP to {host} failed: {exc}") from None
        finally:
            conn.close()

    calls.send_request = send


@zoo.mutant("SECURITY-001", "stores the key Unicode-normalised (NFKD) instead of as given")
def security_normalises_stored_key() -> None:
    import unicodedata

    original = login.store_login
    login.store_login = lambda host, key, ident: original(
        host, unicodedata.normalize("NFKD", key), ident
    )


@zoo.mutant("SECURITY-008", "accepts any certificate, like the real CLIs do for racks")
def security_skips_certificate_checks() -> None:
    import ssl

    def unverified() -> ssl.SSLContext:
        context = ssl._create_unverified_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    transport.tls_context = unverified
