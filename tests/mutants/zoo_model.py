"""Mutants for the property and stateful model checks (test_properties, test_model).

The first ones break byte-exact keys and foreign auth entries in ways only
drawn keys and hosts expose; the others only show in a sequence of steps
(a later command, a login after a key roll, a refused command after a
membership change), which is what the model check is for.
"""


from reference_cli import calls, errors, files, lock, responses
from reference_cli.commands import login
from tests.mutants import Zoo

zoo = Zoo()


# ------------------------------------------------------------------ properties


@zoo.mutant("SECURITY-001", "trims spaces around the key before using it")
def key_whitespace_trimmed() -> None:
    original = login.resolve_login_key
    login.resolve_login_key = lambda host, flag_key, stored: original(
        host, flag_key, stored
    ).strip()


@zoo.mutant("LOGIN-003", "lowercases every host in auth when it rewrites the file")
def auth_hosts_lowercased() -> None:
    original = files.write_auth

    def write(auth: dict[str, str]) -> None:
        original({host.lower(): key for host, key in auth.items()})

    files.write_auth = write


# ------------------------------------------------------------------ model


@zoo.mutant("PROXY-001", "forgets the selected rack after the first command proxied through it",
            # the selection file changes under commands that must change none
            also=("PROXY-002", "CONTEXT-003", "CONTEXT-005", "KEYROLL-005", "KEYROLL-006",
                  "KEYROLL-009"))
def selection_forgotten_after_proxied_command() -> None:
    original = calls.api

    def api(state: object, *args: object, **kwargs: object) -> object:
        result = original(state, *args, **kwargs)
        if getattr(state, "rack", None):
            with lock.locked():
                files.clear_rack()
        return result

    calls.api = api


@zoo.mutant("LOGIN-011", "a refused login still records its host as the target",
            # any failed login writes the target: every rule that says it changes nothing
            also=("KEYROLL-010", "RELIABILITY-005", "RELIABILITY-006", "RELIABILITY-007",
                  "SECURITY-007"))
def refused_login_writes_host() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.CliError:
            files.write_host(host)
            raise

    login.validate_login = validate


@zoo.mutant("KEYROLL-004", "a login to a host already in auth keeps the key stored for it",
            also=("LOGIN-002", "LOGOUT-008", "RELIABILITY-001", "KEYROLL-008"))
def relogin_keeps_stored_key() -> None:
    original = files.write_auth

    def write(auth: dict[str, str]) -> None:
        stored = files.read_auth()
        original({**auth, **{h: k for h, k in stored.items() if h in auth}})

    files.write_auth = write


@zoo.mutant("PROXY-008", "when Console refuses a command, retries it at another stored host",
            # logged out, it tries the other hosts' keys too
            also=("PROXY-001", "LOGOUT-006", "SHARING-005", "SHARING-008", "SHARING-009"))
def refused_command_goes_around_console() -> None:
    original = calls.api

    def api(state: object, method: str, path: str, *args: object) -> object:
        try:
            return original(state, method, path, *args)
        except errors.CliError:
            if not getattr(state, "rack", None):
                raise
            for host, key in files.read_auth().items():
                if host == getattr(state, "host", None):
                    continue
                resp = calls.send_request(host, key, method, path)
                if resp.status in responses.SUCCESS:
                    return responses.parse_json(resp, host) if not args or args[0] is None else None
            raise

    calls.api = api
