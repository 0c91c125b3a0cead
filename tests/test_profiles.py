"""Every shipped profile validates; every class of bad profile gives one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.running.cli_files import CliState
from conformance.running.profiles import (
    REQUIRED_OPERATIONS,
    ProfileError,
    load_profile,
    shipped_profiles,
)

GOOD = """
name = "mine"
command = ["mycli"]
host_form = "127.0.0.1:{port}"
[layout]
config_dir = ".convox"
target_file = "host"
auth_file = "auth"
selection = "rack"
[operations]
login = ["login", "{host}", "--password", "{key}"]
switch = ["switch", "{rack}"]
current_rack = ["switch"]
racks = ["racks"]
apps = ["apps"]
rack_info = ["rack"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


def test_four_profiles_ship_and_validate() -> None:
    names = set(shipped_profiles())
    assert {"reference", "convox-classic", "convox-rack", "convox-v3"} <= names
    for name in names:
        profile = load_profile(name)
        assert profile.name == name
        for op in REQUIRED_OPERATIONS:
            assert profile.has(op)


def test_profiles_follow_the_real_cli_generations() -> None:
    classic, rack, v3 = (load_profile(n) for n in ("convox-classic", "convox-rack", "convox-v3"))
    assert classic.host_form.startswith("localhost:")
    assert (classic.layout.selection, rack.layout.selection, v3.layout.selection) == (
        "rack", "racks", "current")
    assert v3.layout.target_file == "console"
    assert "--token" in v3.operations["login"].argv
    assert v3.operations["login_prompt"].prompt == "CLI Token: "
    assert not any(p.has("logout") for p in (classic, rack, v3))


def test_reference_profile_has_every_capability() -> None:
    from conformance.running.profiles import CAPABILITIES

    reference = load_profile("reference")
    assert reference.in_sandbox().missing(sorted(CAPABILITIES)) == []


def test_only_the_sandbox_gives_resolve_not_a_resolve_seam() -> None:
    """The seam routes only the names the CLI sends through it; egress past it goes unseen."""
    from conformance.running.profiles import MACHINE_CAPABILITIES

    reference = load_profile("reference")
    assert reference.trust.resolve_env is not None
    assert reference.missing(sorted(MACHINE_CAPABILITIES)) == ["resolve"]
    assert reference.in_sandbox().missing(["resolve"]) == []


def test_environment_variables_give_their_capabilities(tmp_path: Path) -> None:
    token_only = load_profile(write(tmp_path, GOOD + "[environment]\nkey = 'CONVOX_TOKEN'\n"))
    assert not token_only.has("env_credentials") and not token_only.has("env_rack")
    both = load_profile(write(tmp_path, GOOD + "[environment]\nhost = 'CONVOX_HOST'\n"
                                               "key = 'CONVOX_TOKEN'\nrack = 'CONVOX_RACK'\n"))
    assert both.has("env_credentials") and both.has("env_rack")
    assert (both.environment.host, both.environment.key) == ("CONVOX_HOST", "CONVOX_TOKEN")
    # Every official CLI's commands read them (the classic's source: cmd/convox/login.go
    # and main.go at 20171228145523; v3's: pkg/rack/console.go and rack.go at 3.24.9).
    for name in ("convox-rack", "convox-classic", "convox-v3"):
        assert load_profile(name).has("env_credentials") and load_profile(name).has("env_rack")


def test_a_good_user_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.name == "mine"
    assert not profile.has("logout")
    assert not profile.has("trust")


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda t: "colour = 'red'\n" + t, "colour", "unknown field"),
        (lambda t: t.replace('rack_info = ["rack"]\n', ""), "operations.rack_info",
         "required field is missing"),
        (lambda t: t.replace('"{rack}"', '"{rak}"'), "operations.switch[1]",
         "unknown placeholder {rak}"),
        (lambda t: t.replace('selection = "rack"', 'selection = "stack"'), "layout.selection",
         "a file named 'stack' needs layout.selection_format"),
        (lambda t: t.replace('selection = "rack"', 'selection = "x"\nselection_format = "json"'),
         "layout.selection_format", "must be one of rack, racks, current"),
        (lambda t: t.replace('selection = "rack"', 'selection = "a/b"\nselection_format = "rack"'),
         "layout.selection", "must be a file name"),
        (lambda t: t.replace("127.0.0.1:{port}", "127.0.0.1:1234"), "host_form",
         "must contain {port}"),
        (lambda t: t.replace('["mycli"]', "[]"), "command", "must not be empty"),
        (lambda t: t.replace('"--password", "{key}"', '"--password"'), "operations.login",
         "never uses {key}"),
        (lambda t: t.replace('config_dir = ".convox"', 'config_dir = "/etc"'),
         "layout.config_dir", "inside the isolated home"),
        (lambda t: t + "[trust]\nca = 'X'\n", "trust.ca", "unknown field"),
        (lambda t: t + "[environment]\nhost = 'CONVOX HOST'\n", "environment.host",
         "must be an environment variable name"),
        (lambda t: t + "[environment]\ntoken = 'CONVOX_TOKEN'\n", "environment.token",
         "unknown field"),
    ],
)
def test_bad_profiles_fail_with_one_line(tmp_path: Path, change, field: str, problem: str) -> None:
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert f": {field}:" in message
    assert problem in message


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"shipped profiles: .*reference"):
        load_profile("no-such-profile")


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "name = "))
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(tmp_path / "absent.toml")


def test_cli_override_keeps_paths_whole_and_splits_commands(tmp_path: Path) -> None:
    spaced = tmp_path / "my cli"
    spaced.write_text("")
    profile = load_profile("reference")
    assert profile.with_command(str(spaced)).command == (str(spaced),)
    assert profile.with_command("python -m mycli").command == ("python", "-m", "mycli")


def test_the_rack_api_generation_is_the_profiles_to_choose(tmp_path: Path) -> None:
    from conformance.running.profiles import RACK_APIS
    from fakes.model.world import RACK_APIS as SERVED

    assert RACK_APIS == SERVED  # the profile's choices are what the fakes serve
    assert load_profile(write(tmp_path, GOOD)).rack_api == "current"
    assert load_profile("convox-classic").rack_api == "2017"
    assert load_profile(write(tmp_path, 'rack_api = "2017"\n' + GOOD)).rack_api == "2017"
    with pytest.raises(ProfileError, match=r"rack_api: must be one of 2017, current, got '2016'"):
        load_profile(write(tmp_path, 'rack_api = "2016"\n' + GOOD))


def test_a_selection_file_of_any_name_says_its_format(tmp_path: Path) -> None:
    """A client keeping its selection in `current-rack` describes it as it is."""
    profile = load_profile(write(tmp_path, GOOD.replace(
        'selection = "rack"', 'selection = "current-rack"\nselection_format = "rack"')))
    assert (profile.layout.selection, profile.layout.selection_kind) == ("current-rack", "rack")
    state = CliState(profile.layout, tmp_path / "cfg", within=tmp_path)
    state.write_selection("acme/production")
    assert (tmp_path / "cfg" / "current-rack").read_text() == "acme/production\n"
    assert state.selection() == "acme/production"
    named = load_profile(write(tmp_path, GOOD))
    assert (named.layout.selection, named.layout.selection_kind) == ("rack", "rack")
