"""Mutants that break the LOGOUT rules."""


from reference_cli import errors, files, lock, login_state
from reference_cli.commands import login, logout
from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant(
    "LOGOUT-002", "caches the login in a side file, so removing the key from auth is ignored",
    # the cache is a credential outside auth, written by every command
    also=("LOGOUT-004", "LOGOUT-005", "CONTEXT-004", "CONTEXT-011", "SWITCH-004", "SWITCH-005"),
)
def logout_ignored_by_cache() -> None:
    import json

    original = login_state.current_state

    def state() -> object:
        current = original()
        cache = files.config_path(".session")
        if current.host and current.key:
            files.ensure_config_dir()
            files.atomic_write(cache, json.dumps([current.host, current.key]).encode(), 0o600)
        elif current.host:
            text = files.read_text(cache)
            if text:
                host, key = json.loads(text)
                if host == current.host:
                    current.key = key
        return current

    login_state.current_state = state


@zoo.mutant("LOGOUT-006", "sends requests with an empty key when not logged in")
def logout_sends_empty_key() -> None:
    original = login_state.require_login

    def require(state: object) -> tuple[str, str]:
        host = getattr(state, "host", None)
        if host and not getattr(state, "key", None):
            return host, ""
        return original(state)

    login_state.require_login = require


@zoo.mutant("LOGOUT-001", "also needs a login marker of its own: hand-written files are no login",
            # credentials, or a host, from the environment are no login to it either
            also=("CONTEXT-004", "CONTEXT-007"))
def logout_needs_own_marker() -> None:
    original_store, original_require = login.store_login, login_state.require_login
    marker = ".logged-in"

    def store(host: str, key: str, ident: str) -> None:
        original_store(host, key, ident)
        files.atomic_write(files.config_path(marker), host.encode(), 0o600)

    def require(state: login_state.State) -> tuple[str, str]:
        host, key = original_require(state)
        if files.read_text(files.config_path(marker)) != host:
            raise errors.NotLoggedIn()
        return host, key

    login.store_login = store
    login_state.require_login = require


@zoo.mutant("LOGOUT-003", "with no target file, falls back to the first host auth has a key for",
            also=("LOGOUT-004",))
def logout_guesses_missing_target() -> None:
    original = files.read_host

    def read_host() -> str | None:
        host = original()
        if host is None:
            return next(iter(files.read_auth()), None)
        return host

    files.read_host = read_host


@zoo.mutant("LOGOUT-004", "deletes the target file when auth has no key for it (sticky logout)")
def logout_tidies_half_logout() -> None:
    original = login_state.current_state

    def state() -> object:
        current = original()
        if current.host and not current.key:
            files.remove_host()
        return current

    login_state.current_state = state


@zoo.mutant("LOGOUT-005", "caches the basic-auth credentials of each login in a side file")
def logout_caches_credentials() -> None:
    import base64

    original = login.store_login

    def store(host: str, key: str, ident: str) -> None:
        original(host, key, ident)
        token = base64.b64encode(f"convox:{key}".encode()).decode()
        files.atomic_write(files.config_path("credentials"), f"{host} {token}\n".encode(), 0o600)

    login.store_login = store


@zoo.mutant("LOGOUT-007", "reports a bare 401 instead of saying how to log in")
def logout_bare_unauthorized() -> None:
    original = login_state.require_login

    def require(state: object) -> tuple[str, str]:
        try:
            return original(state)
        except errors.NotLoggedIn:
            raise errors.CliError("401 unauthorized") from None

    login_state.require_login = require


@zoo.mutant("LOGOUT-008", "keeps the first key stored for a host: logging in again changes nothing",
            also=("LOGIN-002", "KEYROLL-004", "RELIABILITY-001"))
def logout_keeps_first_account() -> None:
    def store(host: str, key: str, ident: str) -> None:
        with lock.locked():
            auth = files.read_auth()
            auth.setdefault(host, key)
            files.write_auth(auth)
            files.write_host(host)
            files.clear_rack()

    login.store_login = store


@zoo.mutant("LOGOUT-009", "prefers a per-host key cache over auth, so the old account keeps acting",
            # every command writes the cache, and every later key for a host loses to it
            also=("LOGOUT-005", "CONTEXT-004", "CONTEXT-006", "CONTEXT-008", "KEYROLL-004",
                  "KEYROLL-008", "PROXY-001", "PROXY-006", "SWITCH-004", "SWITCH-005"))
def logout_key_cache_outlives_account_switch() -> None:
    import json

    original = login_state.current_state

    def state() -> object:
        current = original()
        path = files.config_path(".keys")
        cache = json.loads(files.read_text(path) or "{}")
        if current.host and current.key:
            if current.host in cache:
                current.key = cache[current.host]
            else:
                cache[current.host] = current.key
                files.atomic_write(path, json.dumps(cache).encode(), 0o600)
        return current

    login_state.current_state = state


@zoo.mutant("LOGOUT-010", "logout says it logged out but only forgets the rack selection")
def logout_forgets_only_selection() -> None:
    logout.remove_login = lambda host: files.clear_rack()


@zoo.mutant("LOGOUT-011", "logout empties the whole auth file")
def logout_wipes_every_key() -> None:
    def remove(host: str) -> None:
        with lock.locked():
            files.write_auth({})
            files.remove_host()
            files.clear_rack()

    logout.remove_login = remove
