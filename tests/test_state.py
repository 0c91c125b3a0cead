"""The layout translation: one vocabulary over the three CLI generations' files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.running.cli_files import CliState, StateError
from conformance.running.profiles import load_profile


def state_for(profile: str, tmp_path: Path) -> CliState:
    return CliState(load_profile(profile).layout, tmp_path / "cfg")


@pytest.mark.parametrize("profile", ["reference", "convox-classic", "convox-rack", "convox-v3"])
def test_round_trip_in_every_layout(profile: str, tmp_path: Path) -> None:
    state = state_for(profile, tmp_path)
    assert (state.target(), state.auth(), state.selection()) == (None, None, None)
    state.write_target("127.0.0.1:1")
    state.write_auth({"127.0.0.1:1": "k1", "127.0.0.1:2": "k2"})
    state.write_selection("acme/production")
    assert state.target() == "127.0.0.1:1"
    assert state.logged_in_host() == "127.0.0.1:1"
    assert state.selection() == "acme/production"
    state.remove_key("127.0.0.1:1")
    assert state.logged_in_host() is None
    assert state.keys() == {"127.0.0.1:2": "k2"}


def test_files_follow_each_generation(tmp_path: Path) -> None:
    v3 = state_for("convox-v3", tmp_path / "v3")
    v3.write_target("h:1")
    v3.write_selection("acme/production")
    assert (tmp_path / "v3/cfg/console").read_text().strip() == "h:1"
    assert json.loads((tmp_path / "v3/cfg/current").read_text())["name"] == "acme/production"
    v2 = state_for("convox-rack", tmp_path / "v2")
    v2.write_target("h:1")
    v2.write_selection("acme/production")
    v2.write_selection("acme/staging", host="h:2")
    assert json.loads((tmp_path / "v2/cfg/racks").read_text()) == {
        "h:1": "acme/production", "h:2": "acme/staging"}
    assert v2.selection() == "acme/production"
    assert v2.selection("h:2") == "acme/staging"


def test_corrupt_files_are_one_line_errors(tmp_path: Path) -> None:
    state = state_for("reference", tmp_path)
    state.config_dir.mkdir(parents=True)
    state.auth_path.write_text("{not json")
    with pytest.raises(StateError, match=r"auth: not valid JSON") as caught:
        state.auth()
    assert "\n" not in str(caught.value)
    state.auth_path.write_text('["a list"]')
    with pytest.raises(StateError, match="JSON object of host -> key"):
        state.auth()


def test_racks_selection_needs_a_host(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="needs a host"):
        state_for("convox-rack", tmp_path).write_selection("acme/production")
