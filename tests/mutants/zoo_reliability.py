"""Mutants that break the RELIABILITY rules."""

from types import ModuleType

from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant(
    "RELIABILITY-001", "read-modify-write of auth without the lock, losing concurrent logins"
)
def reliability_unlocked_auth_update(cli: ModuleType) -> None:
    import time

    def store(host: str, key: str, ident: str) -> None:
        auth = cli.read_auth()
        time.sleep(0.05)  # widen the race a real unlocked writer has
        auth[host] = key
        cli.ensure_config_dir()
        path = cli.config_path("auth")
        with open(path, "wb") as handle:
            handle.write(cli.auth_json(auth))
        cli.write_host(host)
        cli.clear_rack()

    cli.store_login = store


@zoo.mutant("RELIABILITY-002", "treats an auth file it cannot parse as empty, then rewrites it")
def reliability_corrupt_auth_is_empty(cli: ModuleType) -> None:
    original = cli.read_auth

    def read() -> dict[str, str]:
        try:
            return original()
        except cli.CliError:
            return {}

    cli.read_auth = read


@zoo.mutant("RELIABILITY-003", "reports a corrupt auth file as a bare JSON error, naming no file")
def reliability_corrupt_auth_unnamed(cli: ModuleType) -> None:
    original = cli.read_auth

    def read() -> dict[str, str]:
        try:
            return original()
        except cli.CliError:
            raise cli.CliError("unexpected end of JSON input") from None

    cli.read_auth = read


@zoo.mutant("RELIABILITY-004", "takes a file it cannot read for a missing one")
def reliability_unreadable_is_missing(cli: ModuleType) -> None:
    original = cli.read_text

    def read(path: str) -> str | None:
        try:
            return original(path)
        except cli.CliError:
            return None

    cli.read_text = read


@zoo.mutant("RELIABILITY-005", "logs in anyway when the server cannot be reached (offline login)")
def reliability_transport_error_logs_in(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except cli.TransportError:
            return ""

    cli.validate_login = validate


@zoo.mutant("RELIABILITY-006", "login treats every answer but a 401 as an accepted key")
def reliability_only_401_refuses(cli: ModuleType) -> None:
    def validate(host: str, key: str) -> str:
        resp = cli.send_request(host, key, "GET", "/auth")
        if resp.status == 401:
            raise cli.CliError(f"invalid login: {host} rejected the key")
        return ""

    cli.validate_login = validate


@zoo.mutant("RELIABILITY-007", "waits an hour for an answer")
def reliability_waits_forever(cli: ModuleType) -> None:
    cli.request_timeout = lambda: 3600.0


@zoo.mutant("RELIABILITY-008", "prints errors on stdout, leaving stderr empty")
def reliability_errors_on_stdout(cli: ModuleType) -> None:
    def report(message: str) -> None:
        line = " ".join(cli.redact(str(message)).split()) or "unknown error"
        cli.out(f"ERROR: {line}")

    cli.report_error = report


@zoo.mutant("RELIABILITY-009", "switch trusts an org/name when Console's rack list cannot be read")
def reliability_switch_trusts_name_on_error(cli: ModuleType) -> None:
    original = cli.cmd_switch

    def switch(args: list[str]) -> int:
        try:
            return original(args)
        except cli.CliError as exc:
            refused = str(exc).startswith(("rack not found", "ambiguous", "usage"))
            if refused or len(args) != 1 or "/" not in args[0]:
                raise
            cli.select_rack(args[0])
            cli.out(f"Switched to {args[0]}")
            return 0

    cli.cmd_switch = switch
