"""``convox switch`` and ``convox racks``: Console's rack list and the selection.

``switch`` matches a name against the racks Console lists (exact ``org/name`` or
an unambiguous bare name) and writes only the ``rack`` file; without a name it
prints the selection. ``racks`` prints the list.
"""

from __future__ import annotations

from reference_cli import calls, errors, files, lock, login_state, output, responses


def fetch_racks(state: login_state.State, command: str = "switch") -> list[dict[str, object]]:
    """``GET /racks`` on the current host; a Rack answers 404: Console only."""
    host, key = login_state.require_login(state)
    resp = calls.send_request(host, key, "GET", "/racks", state.rack)
    if resp.status == 404:
        raise errors.CliError(f"{command} needs a Console login; {host} is a Rack")
    responses.check_response(resp, host)
    data = responses.parse_json(resp, host)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise errors.CliError(f"invalid response from {host}: expected a JSON list of racks")
    return data


def rack_ref(item: dict[str, object]) -> str:
    """``org/name`` of one ``GET /racks`` entry."""
    name = output.text_of(item.get("name"))
    org = item.get("organization")
    org_name = output.text_of(org.get("name")) if isinstance(org, dict) else output.text_of(org)
    return f"{org_name}/{name}" if org_name else name


def rack_refs(racks: list[dict[str, object]]) -> list[str]:
    """Every listed rack as ``org/name``, in Console's order, without duplicates."""
    refs: list[str] = []
    for item in racks:
        ref = rack_ref(item)
        if ref and ref not in refs:
            refs.append(ref)
    return refs


def match_rack(refs: list[str], wanted: str) -> str:
    """Exact ``org/name``, or a bare name matching exactly one listed rack."""
    if wanted in refs:
        return wanted
    bare = "/" not in wanted
    matches = [ref for ref in refs if bare and ref.rpartition("/")[2] == wanted]
    if len(matches) > 1:
        raise errors.CliError(f"ambiguous rack name: {wanted} (matches {', '.join(matches)})")
    if matches:
        return matches.pop()
    hint = f"try one of: {', '.join(refs)}" if refs else "no racks are available"
    raise errors.CliError(f"rack not found: {wanted} ({hint})")


def select_rack(ref: str) -> None:
    """Write the ``rack`` file under the lock; ``host`` and ``auth`` are never touched."""
    with lock.locked():
        files.write_rack(ref)


def cmd_switch(args: list[str]) -> int:
    """``switch [ORG/NAME | NAME]``; without a name print the selection."""
    if len(args) > 1:
        raise errors.CliError("usage: convox switch [ORG/NAME | NAME]")
    if not args:
        return cmd_current_rack()
    state = login_state.current_state()
    refs = rack_refs(fetch_racks(state, "switch"))
    ref = match_rack(refs, args[0])
    select_rack(ref)
    output.out(f"Switched to {ref}")
    return 0


def cmd_current_rack() -> int:
    """Print the rack commands run here would use (``CONVOX_RACK``, the project's
    ``.convox/rack``, the selection); none is an error with a hint (classic CLI)."""
    rack = login_state.selected_rack()
    if rack is None:
        raise errors.CliError(
            "no rack selected; run `convox switch ORG/NAME` after logging in to Console"
        )
    output.out(rack)
    return 0


def cmd_racks(args: list[str]) -> int:
    """``racks``: the racks Console lists for this key."""
    if args:
        raise errors.CliError("usage: convox racks")
    racks = fetch_racks(login_state.current_state(), "racks")
    if not racks:
        output.out("no racks")
        return 0
    rows = [[rack_ref(item), output.text_of(item.get("status"))] for item in racks]
    output.out(output.format_table(["RACK", "STATUS"], rows))
    return 0
