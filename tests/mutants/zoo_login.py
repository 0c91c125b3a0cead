"""Mutants that break the LOGIN rules."""

import contextlib
from types import ModuleType

from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant("LOGIN-010", "stores the key without trying it against the target")
def login_skips_validation(cli: ModuleType) -> None:
    cli.validate_login = lambda host, key: ""


@zoo.mutant("LOGIN-010", "tries the key at console.convox.com instead of the target")
def login_validates_at_default_console(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        return original(cli.DEFAULT_HOST, key)

    cli.validate_login = validate


@zoo.mutant("LOGIN-011", "stores the key even when the target refused it")
def login_stores_refused_key(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except cli.CliError:
            return ""

    cli.validate_login = validate


@zoo.mutant("LOGIN-011", "clears the rack selection before the target has accepted the key")
def login_clears_selection_before_trying(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        cli.clear_rack()
        return original(host, key)

    cli.validate_login = validate


@zoo.mutant("LOGIN-003", "overwrites the other hosts' keys in auth")
def login_overwrites_other_hosts(cli: ModuleType) -> None:
    cli.read_auth = lambda: {}


@zoo.mutant("LOGIN-002", "writes host but never auth")
def login_writes_host_not_auth(cli: ModuleType) -> None:
    cli.write_auth = lambda auth: None


@zoo.mutant("LOGIN-001", "records the target host without its port")
def login_records_host_without_port(cli: ModuleType) -> None:
    original = cli.write_host

    def write_host(host: str) -> None:
        name, _port = cli.split_host(host)
        original(name)

    cli.write_host = write_host


@zoo.mutant("LOGIN-004", "checks the key with a rack-only route, which a Console refuses")
def login_checks_with_rack_route(cli: ModuleType) -> None:
    original = cli.send_request

    def send(host: str, key: str, method: str, path: str, *args: object) -> object:
        return original(host, key, method, "/system" if path == "/auth" else path, *args)

    cli.send_request = send


@zoo.mutant("LOGIN-005", "refuses a target that does not answer with a Console user id")
def login_requires_console_id(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        ident = original(host, key)
        if not ident:
            raise cli.CliError(f"{host} is not a Console")
        return ident

    cli.validate_login = validate


@zoo.mutant("LOGIN-005", "also asks console.convox.com about a key given for a rack")
def login_also_asks_default_console(cli: ModuleType) -> None:
    original = cli.validate_login

    def validate(host: str, key: str) -> str:
        ident = original(host, key)
        if host != cli.DEFAULT_HOST:
            with contextlib.suppress(cli.CliError):
                cli.send_request(cli.DEFAULT_HOST, key, "GET", "/auth")
        return ident

    cli.validate_login = validate


@zoo.mutant("LOGIN-006", "obfuscates the keys it stores in auth (base64)")
def login_stores_keys_encoded(cli: ModuleType) -> None:
    import base64

    original = cli.auth_json

    def auth_json(auth: dict[str, str]) -> bytes:
        encoded = {
            host: base64.b64encode(key.encode("utf-8")).decode("ascii")
            for host, key in auth.items()
        }
        return original(encoded)

    cli.auth_json = auth_json


@zoo.mutant("LOGIN-007", "records the default host as console.convox.com:443")
def login_default_host_with_port(cli: ModuleType) -> None:
    cli.DEFAULT_HOST = "console.convox.com:443"


@zoo.mutant("LOGIN-007", "refuses a login without a host")
def login_requires_a_host(cli: ModuleType) -> None:
    original = cli.parse_login_args

    def parse(args: list[str]) -> tuple[str | None, str | None]:
        host, key = original(args)
        if host is None:
            raise cli.CliError("usage: convox login HOST")
        return host, key

    cli.parse_login_args = parse


@zoo.mutant("LOGIN-008", "ignores the key in the environment")
def login_ignores_password_env(cli: ModuleType) -> None:
    cli.PASSWORD_ENV = "CONVOX_PASSWORD_IGNORED"


@zoo.mutant("LOGIN-009", "leaves terminal echo on at the password prompt")
def login_prompt_echoes_key(cli: ModuleType) -> None:
    original = cli.prompt_password

    def prompt(text: str = "Password: ") -> str | None:
        import termios

        real = termios.tcsetattr
        termios.tcsetattr = lambda fd, when, attributes: None
        try:
            return original(text)
        finally:
            termios.tcsetattr = real

    cli.prompt_password = prompt
