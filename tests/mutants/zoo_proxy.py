"""Mutants that break the PROXY rules."""

import contextlib

from reference_cli import calls, errors, files, lock, login_state, responses, transport
from reference_cli.commands import login
from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant("PROXY-001", "forgets the Rack header, so Console cannot know where to proxy",
            # nothing is proxied, and every check that looks for the header fails
            also=("PROXY-002", "PROXY-003", "CONTEXT-001", "CONTEXT-005", "SHARING-003",
                  "SWITCH-010"))
def proxy_forgets_rack_header() -> None:
    original = transport.request_headers

    def headers(key: str, rack: str | None, content_type: str | None = None) -> dict[str, str]:
        return original(key, None, content_type)

    transport.request_headers = headers


@zoo.mutant("PROXY-005", "sends another host's (the Console's) key to the rack it is logged in to",
            # direct commands (and Console ones with no rack named) with a wrong key, a
            # host from the environment included; the key is one that belongs elsewhere
            also=("PROXY-001", "PROXY-006", "PROXY-009", "LOGOUT-006", "SECURITY-001",
                  "SECURITY-002", "CONTEXT-007"))
def proxy_sends_console_key_to_rack() -> None:
    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        # Direct rack commands only: logins, rack listings and proxied commands are left
        # alone, so what breaks is the rule's own subject.
        if rack is None and path not in ("/auth", "/racks"):
            others = [k for h, k in files.read_auth().items() if h != host and k]
            if others:
                key = others[0]
        return original(host, key, method, path, rack, body, content_type)

    calls.send_request = send


@zoo.mutant("PROXY-002", "expects Console to wrap proxied answers in {data: ...} and shows nothing",
            also=("PROXY-007", "SHARING-003"))  # whose checks read the apps shown
def proxy_expects_console_envelope() -> None:
    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        result = original(state, method, path, body, content_type)
        if not state.rack or method != "GET":
            return result
        if isinstance(result, dict) and "data" in result:
            return result["data"]
        return {} if isinstance(result, dict) else []

    calls.api = api


@zoo.mutant("PROXY-003", "goes straight to the selected rack with its key when auth holds one",
            # requests around Console, with a rack key: what all of these forbid
            also=("PROXY-001", "PROXY-004", "PROXY-008", "SHARING-003", "SHARING-005",
                  "SHARING-008", "SHARING-009"))
def proxy_shortcuts_to_known_rack() -> None:
    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        if state.rack:
            wanted = state.rack.rsplit("/", 1)[-1]
            for host, key in files.read_auth().items():
                if host == state.host or not key:
                    continue
                try:
                    resp = calls.send_request(host, key, "GET", "/system")
                    system = responses.parse_json(resp, host) if resp.status == 200 else {}
                except errors.CliError:
                    continue
                if isinstance(system, dict) and system.get("name") == wanted:
                    direct = login_state.State(host, key, None)
                    return original(direct, method, path, body, content_type)
        return original(state, method, path, body, content_type)

    calls.api = api


@zoo.mutant("PROXY-004", "sends a directly logged-in rack's key to Console once a rack is selected",
            # Console refuses the rack key, so nothing proxied works while auth holds one
            also=("PROXY-001", "PROXY-002", "PROXY-003", "SHARING-003"))
def proxy_sends_rack_key_to_console() -> None:
    original = login_state.current_state

    def state() -> object:
        current = original()
        if current.rack and current.host:
            others = [key for host, key in files.read_auth().items() if host != current.host]
            if others:
                current.key = others[-1]
        return current

    login_state.current_state = state


@zoo.mutant("PROXY-006", "checks in with the Console it holds a key for before direct commands",
            # the check-in is a request with another host's key, which these forbid, and
            # CONTEXT-007 wants nothing at Console when the host variable names a rack; it
            # also precedes a Console command with no rack named, which goes to Console
            # alone (PROXY-001)
            also=("KEYROLL-010", "LOGOUT-003", "LOGOUT-006", "PROXY-009", "CONTEXT-007",
                  "PROXY-001"))
def proxy_checks_in_with_console() -> None:
    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        if not state.rack:
            others = [(h, k) for h, k in files.read_auth().items() if h != state.host and k]
            if others:
                with contextlib.suppress(errors.CliError):
                    calls.send_request(others[0][0], others[0][1], "GET", "/auth")
        return original(state, method, path, body, content_type)

    calls.api = api


@zoo.mutant("PROXY-007", "caches the first rack selection it reads and ignores later switches",
            # the cache is a file that commands which must change none write
            also=("PROXY-001", "RELIABILITY-010", "SWITCH-003", "SWITCH-005", "SWITCH-009"))
def proxy_caches_rack_selection() -> None:
    original = files.read_rack

    def read_rack() -> str | None:
        cache = files.config_path(".rack-cache")
        cached = files.read_text(cache)
        if cached:
            return cached.strip()
        rack = original()
        if rack:
            files.ensure_config_dir()
            files.atomic_write(cache, rack.encode(), 0o600)
        return rack

    files.read_rack = read_rack


@zoo.mutant("PROXY-008", "when Console refuses a rack, retries at other hosts auth holds keys for",
            also=("PROXY-001", "SHARING-005", "SHARING-008", "SHARING-009"))  # refusals all
def proxy_falls_back_around_console() -> None:
    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        try:
            return original(state, method, path, body, content_type)
        except errors.CliError:
            if not state.rack or not state.key:
                raise
            for host, key in files.read_auth().items():
                if host == state.host or not key:
                    continue
                try:
                    resp = calls.send_request(host, key, method, path, None, body, content_type)
                except errors.CliError:
                    continue
                if resp.status in responses.SUCCESS:
                    return None if body is not None else responses.parse_json(resp, host)
            raise

    calls.api = api


@zoo.mutant("PROXY-009", "a login while a rack is selected stores the key but keeps the old target",
            also=("LOGIN-001",))  # the target is not what the login was given
def proxy_selection_pins_login_target() -> None:
    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        if not files.read_rack():
            original(host, key, ident)
            return
        with lock.locked():
            auth = files.read_auth()
            auth[host] = key
            files.write_auth(auth)

    login.store_login = store


@zoo.mutant("PROXY-006", "runs no command without a selected rack: a direct rack login is useless",
            # like the v3 CLI: every rule but those only direct commands can show is decided
            precision=True, direct_commands=False)
def proxy_commands_need_a_selected_rack() -> None:
    original = calls.api

    def api(state: login_state.State, method: str, path: str, body: bytes | None = None,
            content_type: str | None = None) -> object:
        if not state.rack and state.host and state.key:  # a logged-out CLI still says login
            raise errors.CliError("no rack selected; run `convox switch`")
        return original(state, method, path, body, content_type)

    calls.api = api


@zoo.mutant("PROXY-010", "reports a rack without apps as an error")
def empty_rack_is_an_error() -> None:
    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        data = original(state, method, path, body, content_type)
        if path == "/apps" and data == []:
            raise errors.CliError("no apps found")
        return data

    calls.api = api
