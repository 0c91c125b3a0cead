"""World files: the shipped worlds load, and every mistake is one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.model.clock import Clock
from fakes.model.world import World
from fakes.model.worldfile import WorldFileError, load_world, world_names


def host_for(ref: str) -> str:
    return ref.replace("/", "-") + ".convox.test"


def write(tmp_path: Path, text: str, name: str = "w.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(WorldFileError) as err:
        load_world(path, hosts=host_for)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


BASE = """
[[users]]
email = "alice@example.com"
"""


def test_shipped_worlds() -> None:
    assert {"standard", "minimal"} <= set(world_names())


def test_standard_world_content() -> None:
    asked: list[str] = []

    def hosts(ref: str) -> str:
        asked.append(ref)
        return host_for(ref)

    world = load_world("standard", hosts=hosts)
    assert [u.email for u in world.users()] == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "erin@example.com",
    ]
    orgs = {o.name: o for o in world.organizations()}
    assert (orgs["acme"].plan, orgs["acme"].owner) == ("pro", "alice@example.com")
    assert orgs["acme"].members == {"bob@example.com": "developer"}
    assert (orgs["acme-eu"].plan, orgs["acme-eu"].owner) == ("enterprise", "alice@example.com")
    assert (orgs["startup"].plan, orgs["startup"].owner) == ("developer", "dave@example.com")
    assert orgs["carol"].personal and orgs["carol"].plan == "developer"
    assert {r.ref: r.console for r in world.racks()} == {
        "acme/production": "installed_via_console",
        "acme/staging": "added_by_hand",
        "acme/legacy": "none",
        "acme-eu/staging": "installed_via_console",
        "carol/sandbox": "installed_via_console",
        "startup/api": "installed_via_console",
    }
    assert sorted(asked) == sorted(r.ref for r in world.racks())
    assert world.rack("acme/production").host == "acme-production.convox.test"
    assert [d.ref for d in world.deploy_keys()] == ["acme/ci"]
    assert world.rack_update_seconds == 300


def test_minimal_world() -> None:
    world = load_world("minimal", hosts=host_for)
    assert [u.email for u in world.users()] == ["alice@example.com"]
    assert [r.ref for r in world.racks()] == ["acme/production"]
    assert "acme/production" in world.vault


def test_load_by_path_and_clock(tmp_path: Path) -> None:
    clock = Clock(source=lambda: 5.0)
    path = write(tmp_path, BASE + "[settings]\nrack_update_seconds = 12.5\n")
    world = load_world(str(path), hosts=host_for, clock=clock)
    assert isinstance(world, World)
    assert world.clock is clock
    assert world.rack_update_seconds == 12.5


def test_unknown_named_world() -> None:
    with pytest.raises(WorldFileError, match=r"^nope: no world of that name \(known: .*standard"):
        load_world("nope", hosts=host_for)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorldFileError, match="cannot read world file"):
        load_world(tmp_path / "absent.toml", hosts=host_for)


def test_invalid_toml(tmp_path: Path) -> None:
    assert load_error(tmp_path, "[[users]\n").startswith("invalid TOML: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rakcs]]\nname = 'x'\n", "rakcs: unknown field"),
        (BASE + "nickname = 'al'\n", "users[0].nickname: unknown field"),
        ("[settings]\nspeed = 1\n", "settings.speed: unknown field"),
        (
            BASE + "[[organizations]]\nname='acme'\nplan='pro'\nowner='alice@example.com'\n"
            "colour='red'\n",
            "organizations[0].colour: unknown field",
        ),
    ],
)
def test_unknown_fields(tmp_path: Path, text: str, expected: str) -> None:
    assert load_error(tmp_path, text).startswith(expected)


def test_bad_plan(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        BASE + "[[organizations]]\nname='acme'\nplan='gold'\nowner='alice@example.com'\n",
    )
    assert message == "organizations[0].plan: 'gold' is not one of developer, pro, enterprise"


def test_missing_owner(tmp_path: Path) -> None:
    message = load_error(tmp_path, BASE + "[[organizations]]\nname='acme'\nplan='pro'\n")
    assert message == "organizations[0]: missing field 'owner'"


def test_owner_not_a_user(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, BASE + "[[organizations]]\nname='acme'\nplan='pro'\nowner='zed@example.com'\n"
    )
    assert message == "organizations[0].owner: no user 'zed@example.com' in [[users]]"


def test_unknown_org_for_rack(tmp_path: Path) -> None:
    message = load_error(tmp_path, BASE + "[[racks]]\norganization='acme'\nname='production'\n")
    assert message == "racks[0].organization: no organization 'acme'"


def test_unknown_org_for_deploy_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, BASE + "[[deploy_keys]]\norganization='acme'\nname='ci'\n")
    assert message == "deploy_keys[0].organization: no organization 'acme'"


def test_bad_console_mode(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, BASE + "[[racks]]\norganization='alice'\nname='r'\nconsole='sideloaded'\n"
    )
    assert message.startswith("racks[0].console: 'sideloaded' is not one of")


def test_bad_role_and_collaborator_on_developer_plan(tmp_path: Path) -> None:
    two_users = BASE + "[[users]]\nemail='bob@example.com'\n"
    message = load_error(
        tmp_path,
        two_users + "[[organizations]]\nname='acme'\nplan='pro'\nowner='alice@example.com'\n"
        "members=[{email='bob@example.com', role='boss'}]\n",
    )
    assert message.startswith("organizations[0].members[0].role: 'boss' is not one of")
    message = load_error(
        tmp_path,
        two_users + "[[organizations]]\nname='acme'\nplan='developer'\n"
        "owner='alice@example.com'\nmembers=[{email='bob@example.com', role='developer'}]\n",
    )
    assert message.startswith("organizations[0].members[0]: acme is on the developer plan")


def test_member_not_a_user(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        BASE + "[[organizations]]\nname='acme'\nplan='pro'\nowner='alice@example.com'\n"
        "members=[{email='zed@example.com', role='developer'}]\n",
    )
    assert message == "organizations[0].members[0].email: no user 'zed@example.com' in [[users]]"


def test_duplicates_and_clashes(tmp_path: Path) -> None:
    assert load_error(tmp_path, BASE + BASE).startswith("users[1].email: user alice@example.com")
    message = load_error(
        tmp_path, BASE + "[[organizations]]\nname='alice'\nplan='pro'\nowner='alice@example.com'\n"
    )
    assert message == "organizations[0].name: organization alice already exists"
    message = load_error(
        tmp_path,
        BASE + "[[racks]]\norganization='alice'\nname='r'\n"
        "[[racks]]\norganization='alice'\nname='r'\n",
    )
    assert message == "racks[1].name: rack alice/r already exists"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("users = 3\n", "users: must be an array, not int"),
        ("users = [3]\n", "users[0]: must be a table, not int"),
        ("[[users]]\nemail = 3\n", "users[0].email: must be a string, not int"),
        ("[[users]]\nemail = ''\n", "users[0].email: must not be empty"),
        ("[[users]]\nemail = 'nobody'\n", "users[0].email: not an email address: 'nobody'"),
        ("[settings]\nrack_update_seconds = -1\n", "settings.rack_update_seconds: must be"),
        ("[settings]\nrack_update_seconds = true\n", "settings.rack_update_seconds: must be"),
        (
            BASE + "[[racks]]\norganization='alice'\nname='r'\napps=['web', 3]\n",
            "racks[0].apps[1]: must be a non-empty string",
        ),
        ("[[racks]]\nname='r'\n", "racks[0]: missing field 'organization'"),
    ],
)
def test_shape_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert load_error(tmp_path, text).startswith(expected)


def test_hosts_must_give_a_host(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "[[racks]]\norganization='alice'\nname='r'\n")
    with pytest.raises(WorldFileError, match=r"racks\[0\]: no host for rack alice/r"):
        load_world(path, hosts=lambda ref: "")
