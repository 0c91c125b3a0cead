"""Mutants that break the KEYROLL rules."""


from reference_cli import calls, errors, files, lock, responses
from reference_cli.commands import login, rack, switch
from tests.mutants import Zoo, clear_selection_on, swallow_status

zoo = Zoo()


@zoo.mutant("KEYROLL-008", "forgets the new key after rolling the rack it is logged in to")
def keyroll_forgets_rolled_key() -> None:
    rack.store_rolled_key = lambda host, key: None


@zoo.mutant("KEYROLL-001", "takes a 401 for an empty answer, so a revoked key looks fine",
            also=("KEYROLL-002", "KEYROLL-007", "RELIABILITY-011"))
def keyroll_401_is_empty_answer() -> None:
    swallow_status(401, when=lambda path, rack: path != "/auth")


@zoo.mutant("KEYROLL-002", "reports a refused key as a bare 'unauthorized' with no hint to log in",
            also=("LOGIN-014",))  # a refused login goes through check_response too
def keyroll_refusal_without_login_hint() -> None:
    original = responses.check_response

    def check(resp, host):  # type: ignore[no-untyped-def]
        if resp.status == 401:
            raise errors.CliError("unauthorized")
        original(resp, host)

    responses.check_response = check


@zoo.mutant("KEYROLL-003", "drops the rack selection when a key is refused",
            also=("LOGIN-011",))  # a refused login's key is a refused key too
def keyroll_401_clears_selection() -> None:
    clear_selection_on(401)


@zoo.mutant("KEYROLL-004", "a new login to a host keeps the key already stored for it",
            also=("LOGIN-002", "LOGOUT-008", "RELIABILITY-001"))
def keyroll_login_keeps_old_key() -> None:
    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        original(host, files.read_auth().get(host) or key, ident)

    login.store_login = store


@zoo.mutant(
    "KEYROLL-005", "remembers rack status from the last listing and refuses racks seen updating",
    also=("SWITCH-005",),  # the cache is a file the switch writes besides the selection
)
def keyroll_caches_rack_status() -> None:
    import json

    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        cache = files.config_path("rack-status")
        if rack and path != "/racks":
            seen = json.loads(files.read_text(cache) or "{}")
            if seen.get(rack) == "updating":
                raise errors.CliError(f"rack {rack} is updating; try again when it is running")
        resp = original(host, key, method, path, rack, body, content_type)
        if path == "/racks" and resp.status == 200:
            listed = json.loads(resp.body)
            status = {switch.rack_ref(item): item.get("status") for item in listed}
            files.ensure_config_dir()
            files.atomic_write(cache, json.dumps(status).encode(), 0o600)
        return resp

    calls.send_request = send


@zoo.mutant("KEYROLL-006", "forgets the rack selection when Console cannot reach the rack (502)",
            also=("KEYROLL-009",))
def keyroll_502_clears_selection() -> None:
    clear_selection_on(502)


@zoo.mutant("KEYROLL-007", "login skips the check when the key is the one already stored",
            also=("LOGIN-010", "LOGIN-011"))
def keyroll_trusts_stored_key() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        if files.read_auth().get(host) == key:
            return ""
        return original(host, key)

    login.validate_login = validate


@zoo.mutant("KEYROLL-009", "shows a Console gateway error (502) as an empty rack",
            also=("KEYROLL-006",))
def keyroll_502_is_empty_answer() -> None:
    swallow_status(502, when=lambda path, rack: bool(rack))


@zoo.mutant("KEYROLL-010", "a refused login wipes every stored key, rack keys included",
            also=("LOGIN-011", "KEYROLL-007", "RELIABILITY-006"))
def keyroll_refused_login_wipes_auth() -> None:
    original = login.validate_login

    def validate(host: str, key: str) -> str:
        try:
            return original(host, key)
        except errors.TransportError:
            raise
        except errors.CliError:
            with lock.locked():
                files.write_auth({})
            raise

    login.validate_login = validate
