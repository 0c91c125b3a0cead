"""Mutants that break the CONTEXT rules: the project directory and the environment."""

from reference_cli import calls, errors, files, login_state, transport
from reference_cli.commands import rack, switch
from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant("CONTEXT-001", "a project's .convox/rack is ignored")
def project_rack_ignored() -> None:
    login_state.project_rack = lambda: None


@zoo.mutant("CONTEXT-001", "the selection file wins over a project's .convox/rack")
def selection_wins_over_project_rack() -> None:
    def selected() -> str | None:
        return (login_state.flag_rack() or login_state.from_environment(login_state.RACK_ENV)
                or files.read_rack() or login_state.project_rack())

    login_state.selected_rack = selected


@zoo.mutant("CONTEXT-002", "switch run in a project rewrites its .convox/rack")
def switch_rewrites_project_rack() -> None:
    original = switch.select_rack

    def select(ref: str) -> None:
        original(ref)
        if login_state.project_rack() is not None:
            files.atomic_write(login_state.PROJECT_RACK, (ref + "\n").encode(),
                               files.PLAIN_FILE_MODE)

    switch.select_rack = select


@zoo.mutant("CONTEXT-003", "a project's rack, once used, is copied into the selection")
def project_rack_copied_into_selection() -> None:
    original = login_state.project_rack

    def pinned() -> str | None:
        ref = original()
        if ref is not None:
            files.write_rack(ref)
        return ref

    login_state.project_rack = pinned


@zoo.mutant("CONTEXT-004", "the host variable is ignored: commands need a host file",
            also=("CONTEXT-007",))
def host_variable_ignored() -> None:
    login_state.target_host = files.read_host


@zoo.mutant("CONTEXT-004", "credentials from the environment are saved as a login",
            also=("CONTEXT-011",))
def environment_credentials_saved() -> None:
    original = login_state.current_state

    def current() -> login_state.State:
        state = original()
        host = login_state.from_environment(login_state.HOST_ENV)
        key = login_state.environment_key()
        if host and key:
            files.write_auth({**files.read_auth(), host: key})
            files.write_host(host)
        return state

    login_state.current_state = current


@zoo.mutant("CONTEXT-005", "the rack variable is ignored")
def rack_variable_ignored() -> None:
    def selected() -> str | None:
        return login_state.flag_rack() or login_state.project_rack() or files.read_rack()

    login_state.selected_rack = selected


@zoo.mutant("CONTEXT-005", "the rack variable is kept as the selection")
def rack_variable_kept() -> None:
    original = login_state.selected_rack

    def selected() -> str | None:
        ref = login_state.from_environment(login_state.RACK_ENV)
        if ref is not None:
            files.write_rack(ref)
        return original()

    login_state.selected_rack = selected


@zoo.mutant("CONTEXT-006",
            "a refusal (403) reads as an empty answer: another org's rack looks fine",
            also=("RELIABILITY-011",))
def refusal_read_as_empty_answer() -> None:
    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        resp = original(host, key, method, path, rack, body, content_type)
        if resp.status == 403:
            return transport.Response(200, "OK", {"content-type": "application/json"}, b"{}")
        return resp

    calls.send_request = send


@zoo.mutant("CONTEXT-006", "no Rack header when the key comes from the environment",
            also=("CONTEXT-008",))
def no_rack_header_with_environment_key() -> None:
    original = calls.send_request

    def send(host, key, method, path, rack=None, body=None, content_type=None):  # type: ignore[no-untyped-def]
        if login_state.environment_key() is not None:
            rack = None
        return original(host, key, method, path, rack, body, content_type)

    calls.send_request = send


@zoo.mutant("CONTEXT-007", "the host file wins over the host variable")
def host_file_wins_over_variable() -> None:
    login_state.target_host = lambda: (files.read_host()
                                       or login_state.from_environment(login_state.HOST_ENV))


@zoo.mutant("CONTEXT-008", "the stored key wins over the key variable")
def stored_key_wins_over_variable() -> None:
    def current() -> login_state.State:
        host = login_state.target_host()
        stored = files.read_auth().get(host) if host else None
        key = stored or login_state.environment_key()
        errors.remember_secret(key)
        return login_state.State(host, key, login_state.selected_rack())

    login_state.current_state = current


@zoo.mutant("CONTEXT-009", "a project's .convox/rack wins over the rack variable")
def project_rack_wins_over_variable() -> None:
    def selected() -> str | None:
        return (login_state.flag_rack() or login_state.project_rack()
                or login_state.from_environment(login_state.RACK_ENV) or files.read_rack())

    login_state.selected_rack = selected


@zoo.mutant("CONTEXT-010", "the rack variable wins over the --rack flag")
def rack_variable_wins_over_flag() -> None:
    def selected() -> str | None:
        return (login_state.from_environment(login_state.RACK_ENV) or login_state.flag_rack()
                or login_state.project_rack() or files.read_rack())

    login_state.selected_rack = selected


@zoo.mutant("CONTEXT-010", "the --rack flag is accepted and ignored")
def rack_flag_ignored() -> None:
    login_state.flag_rack = lambda: None


@zoo.mutant("CONTEXT-011", "a rack key set with credentials from the environment is stored in auth")
def rolled_key_from_environment_stored() -> None:
    rack.rolls_own_key = lambda state: not state.rack
