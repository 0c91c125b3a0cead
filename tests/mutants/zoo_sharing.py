"""Mutants that break the SHARING rules."""


from reference_cli import calls, errors, files, login_state
from reference_cli.commands import rack, switch
from tests.mutants import Zoo, swallow_status

zoo = Zoo()


def _first_org_only(racks: list) -> list:  # type: ignore[type-arg]
    """The racks of the first organization Console lists (one-org-per-user thinking)."""
    if not racks:
        return racks
    first = switch.rack_ref(racks[0]).split("/", 1)[0]
    return [item for item in racks if switch.rack_ref(item).split("/", 1)[0] == first]


@zoo.mutant("SHARING-001", "racks shows only the first organization's racks")
def sharing_racks_lists_one_organization() -> None:
    original = switch.fetch_racks

    def fetch(state, command="switch"):  # type: ignore[no-untyped-def]
        racks = original(state, command)
        return _first_org_only(racks) if command == "racks" else racks

    switch.fetch_racks = fetch


@zoo.mutant("SHARING-002", "switch only finds racks of the first organization Console lists",
            # a name shared across organizations looks unique; the owner's own
            # Console-installed racks in a second organization cannot be selected
            also=("SWITCH-008", "SWITCH-001"))
def sharing_switch_sees_one_organization() -> None:
    original = switch.rack_refs

    def refs(racks):  # type: ignore[no-untyped-def]
        return original(_first_org_only(racks))

    switch.rack_refs = refs


@zoo.mutant("SHARING-003", "proxied commands send the first key stored in auth, whatever the host",
            # a rack key at Console, refused there: as the PROXY-004 mutant; and the
            # stored key over the one the key variable holds
            also=("PROXY-001", "PROXY-002", "PROXY-003", "PROXY-004", "CONTEXT-008"))
def sharing_sends_first_stored_key() -> None:
    original = login_state.current_state

    def state():  # type: ignore[no-untyped-def]
        current = original()
        stored = list(files.read_auth().values())
        if current.key and current.rack and stored:
            current.key = stored[0]
            errors.remember_secret(current.key)
        return current

    login_state.current_state = state


@zoo.mutant("SHARING-004", "switch stores the selection before Console has confirmed the rack",
            # every switch that should fail leaves the selection changed
            also=("RELIABILITY-009", "RELIABILITY-010", "SWITCH-003", "SWITCH-004", "SWITCH-007"))
def sharing_switch_writes_before_checking() -> None:
    original = switch.cmd_switch

    def cmd_switch(args):  # type: ignore[no-untyped-def]
        if len(args) == 1 and "/" in args[0]:
            switch.select_rack(args[0])
        return original(args)

    switch.cmd_switch = cmd_switch


@zoo.mutant("SHARING-005", "shows Console's refusal (403) as a rack with nothing on it",
            also=("SHARING-008", "SHARING-009", "RELIABILITY-011"))  # refused with a 403 as well
def sharing_403_is_empty_answer() -> None:
    swallow_status(403, when=lambda path, rack: bool(rack))


@zoo.mutant("SHARING-006", "rack info insists on a rack selected through Console",
            also=("PROXY-006", "CONTEXT-006"))  # rack info directly, or with the rack variable
def sharing_rack_info_needs_console() -> None:
    original = rack.cmd_rack

    def cmd_rack(args):  # type: ignore[no-untyped-def]
        if not files.read_rack():
            raise errors.CliError("no rack selected; run `convox switch ORG/NAME`")
        return original(args)

    rack.cmd_rack = cmd_rack


@zoo.mutant("SHARING-008", "answers from the last good result when Console refuses the rack",
            # every refusal or failure becomes an old answer, from a file it keeps
            also=("CONTEXT-005", "KEYROLL-001", "KEYROLL-002", "KEYROLL-006", "KEYROLL-009",
                  "RELIABILITY-011", "SHARING-009"))
def sharing_serves_stale_answer_on_refusal() -> None:
    import hashlib
    import json

    original = calls.api

    def api(state, method, path, body=None, content_type=None):  # type: ignore[no-untyped-def]
        if method != "GET" or not state.rack:
            return original(state, method, path, body, content_type)
        name = hashlib.sha256(f"{state.rack} {path}".encode()).hexdigest()[:16]
        cache = files.config_path(f"cache-{name}.json")
        try:
            result = original(state, method, path, body, content_type)
        except errors.CliError:
            saved = files.read_text(cache)
            if saved is None:
                raise
            return json.loads(saved)
        files.ensure_config_dir()
        files.atomic_write(cache, json.dumps(result).encode(), 0o600)
        return result

    calls.api = api


@zoo.mutant("SHARING-009", "keeps Console's rack list from the first listing and reuses it",
            # a cache file, and listings and switches that no longer ask Console, even
            # with no Console login at all (SWITCH-004)
            also=("KEYROLL-004", "LOGOUT-009", "PROXY-009", "RELIABILITY-009", "RELIABILITY-011",
                  "SHARING-001", "SWITCH-001", "SWITCH-002", "SWITCH-004", "SWITCH-005"))
def sharing_caches_rack_list() -> None:
    import json

    original = switch.fetch_racks

    def fetch(state, command="switch"):  # type: ignore[no-untyped-def]
        cache = files.config_path("racks-cache.json")
        saved = files.read_text(cache)
        if saved is not None:
            return json.loads(saved)
        racks = original(state, command)
        files.ensure_config_dir()
        files.atomic_write(cache, json.dumps(racks).encode(), 0o600)
        return racks

    switch.fetch_racks = fetch
