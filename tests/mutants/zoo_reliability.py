"""Mutants that break the RELIABILITY rules."""


from reference_cli import calls, errors, files, login_state, output, responses, transport
from reference_cli.commands import login, switch
from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant(
    "RELIABILITY-001", "read-modify-write of auth without the lock, losing concurrent logins"
)
def reliability_unlocked_auth_update() -> None:
    import os
    import time

    def store(host: str, key: str, ident: str) -> None:
        auth = files.read_auth()
        time.sleep(0.05)  # widen the race a real unlocked writer has
        auth[host] = key
        files.ensure_config_dir()
        path = files.config_path("auth")
        # In place and unlocked, but private, as a careful writer without a lock would be.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(files.auth_json(auth))
        files.write_host(host)
        files.clear_rack()

    login.store_login = store


@zoo.mutant("RELIABILITY-002", "treats an auth file it cannot parse as empty, then rewrites it",
            also=("RELIABILITY-003", "RELIABILITY-004"))  # no error to name the file; ELOOP too
def reliability_corrupt_auth_is_empty() -> None:
    original = files.read_auth

    def read() -> dict[str, str]:
        try:
            return original()
        except errors.CliError:
            return {}

    files.read_auth = read


@zoo.mutant("RELIABILITY-003", "reports a corrupt auth file as a bare JSON error, naming no file")
def reliability_corrupt_auth_unnamed() -> None:
    original = files.read_auth

    def read() -> dict[str, str]:
        try:
            return original()
        except errors.CliError:
            raise errors.CliError("unexpected end of JSON input") from None

    files.read_auth = read


@zoo.mutant("RELIABILITY-004", "takes a file it cannot read for a missing one")
def reliability_unreadable_is_missing() -> None:
    original = files.read_text

    def read(path: str) -> str | None:
        try:
            return original(path)
        except errors.CliError as exc:
            if "not valid UTF-8" in str(exc):  # read, but damaged: not this mutant's case
                raise
            return None

    files.read_text = read


@zoo.mutant("RELIABILITY-005", "logs in anyway when the server cannot be reached (offline login)",
            # every unreachable, stalled, plain-HTTP or unverified host "logs in"
            also=("LOGIN-012", "RELIABILITY-007", "SECURITY-007", "SECURITY-008"))
def reliability_transport_error_logs_in() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.TransportError:
            return ""

    login.validate_login = validate


@zoo.mutant("RELIABILITY-006", "login treats every answer but a 401 as an accepted key")
def reliability_only_401_refuses() -> None:
    def validate(host: str, key: str) -> str:
        resp = calls.send_request(host, key, "GET", "/auth")
        if resp.status == 401:
            raise errors.CliError(f"invalid login: {host} rejected the key")
        return ""

    login.validate_login = validate


@zoo.mutant("RELIABILITY-007", "waits an hour for an answer")
def reliability_waits_forever() -> None:
    transport.request_timeout = lambda: 3600.0


@zoo.mutant("RELIABILITY-008", "prints errors on stdout, leaving stderr empty",
            also=("KEYROLL-006", "KEYROLL-009", "RELIABILITY-011"))  # all want stderr
def reliability_errors_on_stdout() -> None:
    def report(message: str) -> None:
        line = " ".join(errors.redact(str(message)).split()) or "unknown error"
        output.out(f"ERROR: {line}")

    errors.report_error = report


@zoo.mutant("RELIABILITY-008", "racks shows an empty list, exit 0, when Console fails",
            # as the v2 and v3 CLIs do: a refusal and a 503's message are lost as well
            also=("RELIABILITY-011", "RELIABILITY-012"))
def reliability_racks_swallows_server_errors() -> None:
    original = switch.cmd_racks

    def cmd_racks(args: list[str]) -> int:
        try:
            return original(args)
        except errors.NotLoggedIn:
            raise
        except errors.CliError:
            output.out(output.format_table(["NAME", "STATUS"], []))
            return 0

    switch.cmd_racks = cmd_racks


@zoo.mutant("RELIABILITY-009", "switch trusts an org/name when Console's rack list cannot be read",
            # a list it cannot parse, or a rack's 404 for it, and the switch still "works";
            # so does a switch Console answers with a 503 (RELIABILITY-008)
            also=("RELIABILITY-008", "RELIABILITY-010", "SWITCH-003", "SWITCH-004"))
def reliability_switch_trusts_name_on_error() -> None:
    original = switch.cmd_switch

    def cmd_switch(args: list[str]) -> int:
        try:
            return original(args)
        except errors.CliError as exc:
            refused = str(exc).startswith(("rack not found", "ambiguous", "usage"))
            if refused or len(args) != 1 or "/" not in args[0]:
                raise
            switch.select_rack(args[0])
            output.out(f"Switched to {args[0]}")
            return 0

    switch.cmd_switch = cmd_switch


@zoo.mutant("RELIABILITY-010", "takes an answer it cannot parse for an empty list")
def reliability_malformed_answer_is_empty() -> None:
    from reference_cli import responses

    original = responses.parse_json

    def parse(resp: transport.Response, host: str) -> object:
        try:
            return original(resp, host)
        except errors.CliError:
            return []

    responses.parse_json = parse


# Not in the default precision run: the v2 and v3 emulations, which run there, do this.
@zoo.mutant("RELIABILITY-011", "racks shows an empty list, exit 0, when Console refuses the key "
            "(as the v2 CLI does)")
def racks_empty_when_refused() -> None:
    original = switch.fetch_racks

    def fetch(state: login_state.State, command: str = "switch") -> list[dict[str, object]]:
        host, key = login_state.require_login(state)
        if command == "racks":
            resp = calls.send_request(host, key, "GET", "/racks", state.rack)
            if resp.status == 401:
                return []
        return original(state, command)

    switch.fetch_racks = fetch
    real_out = output.out
    output.out = lambda text: real_out("RACK  STATUS" if text == "no racks" else text)


@zoo.mutant("RELIABILITY-011", "a command Console refuses with a 403 exits 1 without a word")
def refusal_403_exits_silently() -> None:
    # Only the 403: a refused collaborator is told nothing of why the command failed,
    # while every other error still reads as one.
    original = responses.check_response

    def check(resp: transport.Response, host: str) -> None:
        if resp.status == 403:
            raise SystemExit(1)
        original(resp, host)

    responses.check_response = check


@zoo.mutant("RELIABILITY-012", "prints only the status of a failed request, never the "
            "server's own message")
def server_message_dropped() -> None:
    responses.error_message = (
        lambda resp: f"response status {resp.status} {resp.reason}".strip()
    )
