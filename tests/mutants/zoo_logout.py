"""Mutants that break the LOGOUT rules."""

from types import ModuleType

from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant(
    "LOGOUT-002", "caches the login in a side file, so removing the key from auth is ignored"
)
def logout_ignored_by_cache(cli: ModuleType) -> None:
    import json

    original = cli.current_state

    def state() -> object:
        current = original()
        cache = cli.config_path(".session")
        if current.host and current.key:
            cli.ensure_config_dir()
            cli.atomic_write(cache, json.dumps([current.host, current.key]).encode(), 0o600)
        elif current.host:
            text = cli.read_text(cache)
            if text:
                host, key = json.loads(text)
                if host == current.host:
                    current.key = key
        return current

    cli.current_state = state


@zoo.mutant("LOGOUT-006", "sends requests with an empty key when not logged in")
def logout_sends_empty_key(cli: ModuleType) -> None:
    original = cli.require_login

    def require(state: object) -> tuple[str, str]:
        host = getattr(state, "host", None)
        if host and not getattr(state, "key", None):
            return host, ""
        return original(state)

    cli.require_login = require


@zoo.mutant("LOGOUT-001", "keeps the login target in a private file, ignoring the documented one")
def logout_private_target_file(cli: ModuleType) -> None:
    original = cli.config_path

    def config_path(name: str) -> str:
        return original(".session-host" if name == "host" else name)

    cli.config_path = config_path


@zoo.mutant("LOGOUT-003", "with no target file, falls back to the first host auth has a key for")
def logout_guesses_missing_target(cli: ModuleType) -> None:
    original = cli.read_host

    def read_host() -> str | None:
        host = original()
        if host is None:
            return next(iter(cli.read_auth()), None)
        return host

    cli.read_host = read_host


@zoo.mutant("LOGOUT-004", "deletes the target file when auth has no key for it (sticky logout)")
def logout_tidies_half_logout(cli: ModuleType) -> None:
    original = cli.current_state

    def state() -> object:
        current = original()
        if current.host and not current.key:
            cli.remove_host()
        return current

    cli.current_state = state


@zoo.mutant("LOGOUT-005", "caches the basic-auth credentials of each login in a side file")
def logout_caches_credentials(cli: ModuleType) -> None:
    import base64

    original = cli.store_login

    def store(host: str, key: str, ident: str) -> None:
        original(host, key, ident)
        token = base64.b64encode(f"convox:{key}".encode()).decode()
        cli.atomic_write(cli.config_path("credentials"), f"{host} {token}\n".encode(), 0o600)

    cli.store_login = store


@zoo.mutant("LOGOUT-007", "reports a bare 401 instead of saying how to log in")
def logout_bare_unauthorized(cli: ModuleType) -> None:
    original = cli.require_login

    def require(state: object) -> tuple[str, str]:
        try:
            return original(state)
        except cli.NotLoggedIn:
            raise cli.CliError("401 unauthorized") from None

    cli.require_login = require


@zoo.mutant("LOGOUT-008", "keeps the first key stored for a host: logging in again changes nothing")
def logout_keeps_first_account(cli: ModuleType) -> None:
    def store(host: str, key: str, ident: str) -> None:
        with cli.locked():
            auth = cli.read_auth()
            auth.setdefault(host, key)
            cli.write_auth(auth)
            cli.write_host(host)
            cli.clear_rack()

    cli.store_login = store


@zoo.mutant("LOGOUT-009", "prefers a per-host key cache over auth, so the old account keeps acting")
def logout_key_cache_outlives_account_switch(cli: ModuleType) -> None:
    import json

    original = cli.current_state

    def state() -> object:
        current = original()
        path = cli.config_path(".keys")
        cache = json.loads(cli.read_text(path) or "{}")
        if current.host and current.key:
            if current.host in cache:
                current.key = cache[current.host]
            else:
                cache[current.host] = current.key
                cli.atomic_write(path, json.dumps(cache).encode(), 0o600)
        return current

    cli.current_state = state


@zoo.mutant("LOGOUT-010", "logout says it logged out but only forgets the rack selection")
def logout_forgets_only_selection(cli: ModuleType) -> None:
    cli.remove_login = lambda host: cli.clear_rack()


@zoo.mutant("LOGOUT-011", "logout empties the whole auth file")
def logout_wipes_every_key(cli: ModuleType) -> None:
    def remove(host: str) -> None:
        with cli.locked():
            cli.write_auth({})
            cli.remove_host()
            cli.clear_rack()

    cli.remove_login = remove
