"""Probes: variants that satisfy every rule in a way other than the reference's.

Each stands for a class of CLI the suite once failed wrongly. The precision
matrix runs the whole suite against each and requires that nothing fails and
nothing is blocked: a check that turns one of them red asserts more than its
rule says.
"""

from collections.abc import Callable

from reference_cli import calls, errors, login_state, responses
from reference_cli.commands import login, rack, switch
from tests.mutants import Zoo

zoo = Zoo()


@zoo.probe("asks Console for the rack list before apps and rack, and refuses a selected "
           "rack it does not list without sending the command")
def refuses_unlisted_rack_locally() -> None:
    def checked(command: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
        def run(args: list[str]) -> int:
            state = login_state.current_state()
            if state.rack and state.host and state.key:
                listed = switch.rack_refs(switch.fetch_racks(state, "apps"))
                if state.rack not in listed:
                    raise errors.CliError(f"{state.rack} is not one of your racks on {state.host}")
            return command(args)

        return run

    rack.cmd_apps = checked(rack.cmd_apps)
    rack.cmd_rack = checked(rack.cmd_rack)


@zoo.probe("takes any 200 from /auth as an accepted key without reading the body")
def auth_body_ignored() -> None:
    def validate(host: str, key: str) -> str:
        resp = calls.send_request(host, key, "GET", "/auth")
        if resp.status == 401:
            raise errors.CliError(f"invalid login: {host} rejected the key")
        responses.check_response(resp, host)
        return ""

    login.validate_login = validate
