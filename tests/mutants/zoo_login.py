"""Mutants that break the LOGIN rules."""

import contextlib
import os

from reference_cli import calls, errors, files, hosts, lock, session
from reference_cli.commands import login
from tests.mutants import Zoo

zoo = Zoo()


# A login that never reaches its target breaks every rule that observes the login
# at the server, or that wants it to fail when the server does.
@zoo.mutant("LOGIN-010", "stores the key without trying it against the target",
            also=("LOGIN-004", "LOGIN-005", "LOGIN-006", "LOGIN-007", "LOGIN-008", "LOGIN-011",
                  "KEYROLL-007", "RELIABILITY-005", "RELIABILITY-006", "RELIABILITY-007",
                  "SECURITY-001", "SECURITY-007", "SECURITY-008", "SHARING-006"))
def login_skips_validation() -> None:
    login.validate_login = lambda host, key: ""


@zoo.mutant("LOGIN-010", "tries the key at console.convox.com instead of the target",
            also=("LOGIN-005", "LOGIN-012", "SECURITY-007"))
def login_validates_at_default_console() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        return original(login.DEFAULT_HOST, key)

    login.validate_login = validate


# Every login that should fail succeeds, whatever the reason it should fail.
@zoo.mutant("LOGIN-011", "stores the key even when the target refused it",
            also=("KEYROLL-007", "RELIABILITY-005", "RELIABILITY-006", "RELIABILITY-007",
                  "SECURITY-007", "SECURITY-008"))
def login_stores_refused_key() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.CliError:
            return ""

    login.validate_login = validate


@zoo.mutant("LOGIN-011", "clears the rack selection before the target has accepted the key")
def login_clears_selection_before_trying() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        files.clear_rack()
        return original(host, key)

    login.validate_login = validate


@zoo.mutant("LOGIN-003", "overwrites the other hosts' keys in auth",
            also=("RELIABILITY-001",))  # whose concurrent logins then lose entries
def login_overwrites_other_hosts() -> None:
    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        # The login alone forgets the others: every other command reads auth as it is.
        with lock.locked():
            files.write_auth({})
        original(host, key, ident)

    login.store_login = store


@zoo.mutant("LOGIN-002", "writes host but never auth")
def login_writes_host_not_auth() -> None:
    files.write_auth = lambda auth: None


@zoo.mutant("LOGIN-001", "records the target host without its port",
            also=("LOGIN-004", "LOGIN-005"))  # their checks read the target file too
def login_records_host_without_port() -> None:
    original = files.write_host

    def write_host(host: str) -> None:
        name, _port = hosts.split_host(host)
        original(name)

    files.write_host = write_host


@zoo.mutant("LOGIN-004", "checks the key with a rack-only route, which a Console refuses")
def login_checks_with_rack_route() -> None:
    original = calls.send_request

    def send(host: str, key: str, method: str, path: str, *args: object) -> object:
        return original(host, key, method, "/system" if path == "/auth" else path, *args)

    calls.send_request = send


@zoo.mutant("LOGIN-005", "refuses a target that does not answer with a Console user id")
def login_requires_console_id() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        ident = original(host, key)
        if not ident:
            raise errors.CliError(f"{host} is not a Console")
        return ident

    login.validate_login = validate


@zoo.mutant("LOGIN-005", "also asks console.convox.com about a key given for a rack",
            also=("LOGIN-010", "SECURITY-002", "SHARING-006"))
def login_also_asks_default_console() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        ident = original(host, key)
        if host != login.DEFAULT_HOST:
            with contextlib.suppress(errors.CliError):
                calls.send_request(login.DEFAULT_HOST, key, "GET", "/auth")
        return ident

    login.validate_login = validate


@zoo.mutant("LOGIN-006", "obfuscates the keys it stores in auth (base64)",
            also=("LOGIN-002", "LOGIN-003", "LOGIN-010"))
def login_stores_keys_encoded() -> None:
    import base64

    original = files.auth_json

    def auth_json(auth: dict[str, str]) -> bytes:
        encoded = {
            host: base64.b64encode(key.encode("utf-8")).decode("ascii")
            for host, key in auth.items()
        }
        return original(encoded)

    files.auth_json = auth_json


@zoo.mutant("LOGIN-007", "records the default host as console.convox.com:443")
def login_default_host_with_port() -> None:
    login.DEFAULT_HOST = "console.convox.com:443"


@zoo.mutant("LOGIN-007", "refuses a login without a host")
def login_requires_a_host() -> None:
    original = login.parse_login_args

    def parse(args: list[str]) -> tuple[str | None, str | None]:
        host, key = original(args)
        if host is None:
            raise errors.CliError("usage: convox login HOST")
        return host, key

    login.parse_login_args = parse


@zoo.mutant("LOGIN-008", "ignores the key in the environment")
def login_ignores_password_env() -> None:
    login.PASSWORD_ENV = "CONVOX_PASSWORD_IGNORED"


@zoo.mutant("LOGIN-009", "leaves terminal echo on at the password prompt")
def login_prompt_echoes_key() -> None:
    original = login.prompt_password

    def prompt(text: str = "Password: ") -> str | None:
        import termios

        real = termios.tcsetattr
        termios.tcsetattr = lambda fd, when, attributes: None
        try:
            return original(text)
        finally:
            termios.tcsetattr = real

    login.prompt_password = prompt


@zoo.mutant("LOGIN-012", "reports every failed login, unreachable hosts included, as a "
            "refused key (as the real CLIs do)",
            also=("SECURITY-008",))  # whose check wants the certificate named
def login_every_failure_is_a_refused_key() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.CliError:
            raise errors.CliError(
                f"invalid login: {host} rejected the key; check it and run "
                f"`convox login {host}` again") from None

    login.validate_login = validate


@zoo.mutant("LOGIN-001", "keeps the login target in a private file, ignoring the documented one",
            also=("LOGOUT-001", "LOGIN-004", "LOGIN-005", "LOGIN-007"))  # all read the target
def login_keeps_target_in_private_file() -> None:
    original = files.config_path

    def config_path(name: str) -> str:
        return original(".session-host" if name == "host" else name)

    files.config_path = config_path


@zoo.mutant("LOGIN-013", "the key variable wins over the --password flag")
def login_variable_wins_over_flag() -> None:
    original = login.resolve_login_key

    def resolve(host: str, flag_key: str | None, stored: dict[str, str]) -> str:
        from_env = os.environ.get(login.PASSWORD_ENV, "")
        return login.decode_key(from_env) if from_env else original(host, flag_key, stored)

    login.resolve_login_key = resolve


@zoo.mutant("LOGIN-014", "a refused key is reported only as a failed login")
def login_refusal_says_only_failed() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.CliError as exc:
            if "rejected the key" in str(exc):
                raise errors.CliError(f"could not complete the login to {host}") from None
            raise

    login.validate_login = validate


@zoo.mutant("LOGIN-015", "ignores Console's session challenge: the 401 stands")
def login_ignores_session_challenge() -> None:
    session.challenge = lambda resp: None


@zoo.mutant("LOGIN-015", "sends a stored session to every host, not only its own")
def login_session_sent_everywhere() -> None:
    def headers_for(host: str) -> dict[str, str]:
        sessions = session.read_sessions()
        sid = sessions.get(host) or next(iter(sessions.values()), None)
        return {session.HEADER: sid} if sid else {}

    session.headers_for = headers_for


@zoo.mutant("LOGIN-016", "takes https://HOST for a host name and refuses it")
def scheme_refused() -> None:
    original = hosts.normalize_host

    def normalize(raw: str) -> str:
        if "://" in raw:
            raise errors.CliError(f"invalid host: {raw!r}")
        return original(raw)

    hosts.normalize_host = normalize

