"""Mutants that break the SWITCH rules."""


from reference_cli import errors, files, login_state, output
from reference_cli.commands import login, switch
from tests.mutants import Zoo

zoo = Zoo()


@zoo.mutant("SWITCH-005", "switch also rewrites the login target (same host, a newline added)")
def switch_rewrites_host() -> None:
    original = switch.select_rack

    def select(ref: str) -> None:
        original(ref)
        host = files.read_host()
        if host:
            files.atomic_write(files.config_path("host"), f"{host}\n".encode(),
                               files.PLAIN_FILE_MODE)

    switch.select_rack = select


@zoo.mutant("SWITCH-005", "switch re-saves auth in compact JSON (same keys, other bytes)")
def switch_rewrites_auth_compact() -> None:
    import json

    original = switch.select_rack

    def select(ref: str) -> None:
        original(ref)
        data = json.dumps(files.read_auth()).encode("utf-8")
        files.atomic_write(files.config_path("auth"), data, files.AUTH_MODE)

    switch.select_rack = select


@zoo.mutant("SWITCH-003", "switch accepts a rack Console did not list",
            also=("SHARING-004", "SWITCH-007"))  # unlisted for bob, or unknown altogether
def switch_accepts_unlisted_rack() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        try:
            return original(refs, wanted)
        except errors.CliError:
            if "/" in wanted:
                return wanted
            raise

    switch.match_rack = match


@zoo.mutant("SWITCH-001", "switch stores the bare rack name, dropping the organization",
            also=("SWITCH-002", "SWITCH-006", "SHARING-002"))  # whose checks read the selection
def switch_stores_bare_name() -> None:
    original = switch.select_rack

    def select(ref: str) -> None:
        original(ref.rsplit("/", 1)[-1])

    switch.select_rack = select


@zoo.mutant("SWITCH-002", "switch compares rack names only, ignoring the organization",
            # org/name switches land on, or stumble over, another organization's rack,
            # one Console lists in place of one it does not (SWITCH-003)
            also=("SHARING-002", "SWITCH-001", "SWITCH-003", "SWITCH-005"))
def switch_matches_name_ignoring_org() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        return original(refs, wanted.rsplit("/", 1)[-1])

    switch.match_rack = match


@zoo.mutant("SWITCH-002", "switch checks names against the rack list it saw first (a stale cache)",
            # as the SHARING-009 rack-list cache
            also=("KEYROLL-004", "LOGOUT-009", "PROXY-009", "RELIABILITY-009", "RELIABILITY-011",
                  "SHARING-001", "SHARING-009", "SWITCH-001", "SWITCH-004", "SWITCH-005"))
def switch_uses_stale_rack_list() -> None:
    import json

    original = switch.fetch_racks

    def fetch(state: object, command: str = "switch") -> list[dict[str, object]]:
        cache = files.config_path("racks.cache")
        text = files.read_text(cache)
        if text is not None:
            return json.loads(text)
        racks = original(state, command)
        files.ensure_config_dir()
        files.atomic_write(cache, json.dumps(racks).encode("utf-8"), files.PLAIN_FILE_MODE)
        return racks

    switch.fetch_racks = fetch


@zoo.mutant("SWITCH-004", "switch on a rack login selects the name as typed")
def switch_on_rack_selects_as_typed() -> None:
    original = switch.cmd_switch

    def cmd_switch(args: list[str]) -> int:
        try:
            return original(args)
        except errors.CliError as exc:
            if args and "needs a Console login" in str(exc):
                switch.select_rack(args[0])
                return 0
            raise

    switch.cmd_switch = cmd_switch


@zoo.mutant("SWITCH-004", "switch on a rack login asks console.convox.com with the rack key",
            also=("PROXY-006",))  # racks at a rack login does the same
def switch_on_rack_asks_default_console() -> None:
    original = switch.fetch_racks

    def fetch(state: object, command: str = "switch") -> list[dict[str, object]]:
        try:
            return original(state, command)
        except errors.CliError:
            if state.host == login.DEFAULT_HOST:  # type: ignore[attr-defined]
                raise
            console = login_state.State(login.DEFAULT_HOST, state.key, state.rack)  # type: ignore[attr-defined]
            return original(console, command)

    switch.fetch_racks = fetch


@zoo.mutant("SWITCH-006", "switch refuses a bare rack name")
def switch_refuses_bare_name() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        if "/" not in wanted:
            raise errors.CliError(f"rack not found: {wanted} (use ORG/NAME)")
        return original(refs, wanted)

    switch.match_rack = match


@zoo.mutant("SWITCH-007", "switch takes an unknown bare name as a rack of the current org")
def switch_guesses_org_for_unknown_name() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        try:
            return original(refs, wanted)
        except errors.CliError:
            if "/" in wanted or any(ref.rsplit("/", 1)[-1] == wanted for ref in refs):
                raise
            current = files.read_rack() or (refs[0] if refs else "")
            return f"{current.split('/')[0]}/{wanted}"

    switch.match_rack = match


@zoo.mutant("SWITCH-007", "switch to an unknown rack forgets the current selection",
            also=("SWITCH-003",))  # an unlisted rack is unknown to it too
def switch_clears_selection_on_unknown_rack() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        try:
            return original(refs, wanted)
        except errors.CliError as exc:
            if "not found" in str(exc):
                files.clear_rack()
            raise

    switch.match_rack = match


@zoo.mutant("SWITCH-008", "switch picks the first rack matching an ambiguous bare name")
def switch_picks_first_of_ambiguous_name() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        try:
            return original(refs, wanted)
        except errors.CliError:
            matches = [ref for ref in refs if ref.rsplit("/", 1)[-1] == wanted]
            if matches:
                return matches[0]
            raise

    switch.match_rack = match


@zoo.mutant("SWITCH-009", "switch without a name prints the bare rack name, not org/name")
def current_rack_prints_bare_name() -> None:
    def current() -> int:
        rack = files.read_rack()
        if rack is None:
            raise errors.CliError("no rack selected")
        output.out(rack.rsplit("/", 1)[-1])
        return 0

    switch.cmd_current_rack = current


@zoo.mutant("SWITCH-009", "switch without a name is a usage error")
def switch_without_name_is_usage_error() -> None:
    original = switch.cmd_switch

    def cmd_switch(args: list[str]) -> int:
        if not args:
            raise errors.CliError("usage: convox switch ORG/NAME")
        return original(args)

    switch.cmd_switch = cmd_switch


@zoo.mutant("SWITCH-010", "reads the selection file without trimming its newline")
def selection_read_untrimmed() -> None:
    def read_rack() -> str | None:
        text = files.read_text(files.config_path("rack"))
        return text if text and text.strip() else None

    files.read_rack = read_rack


@zoo.mutant("SWITCH-006", "compares a bare rack name by sort order instead of equality")
def switch_bare_name_by_sort_order() -> None:
    original = switch.match_rack

    def match(refs: list[str], wanted: str) -> str:
        if "/" in wanted:
            return original(refs, wanted)
        matches = [ref for ref in refs if ref.rsplit("/", 1)[-1] <= wanted]
        if len(matches) > 1:
            raise errors.CliError(f"ambiguous rack name: {wanted}")
        return original(refs, wanted) if not matches else matches[0]

    switch.match_rack = match
