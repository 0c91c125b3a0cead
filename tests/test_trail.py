"""The trail a check leaves: keys as tokens, hand edits found, the failing example kept."""

from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conformance.replay.comparison import difference
from conformance.replay.signatures import hand_edits
from conformance.replay.tokens import (
    DIGIT,
    LOWER,
    UPPER,
    Tokens,
    as_identities,
    encode_basic,
    shape_of,
)
from conformance.replay.trail import Trail
from conformance.replay.values import Keys
from conformance.running.home_files import FileSnapshot

KEY = "Zq3xVw9LmN0pRt5yUi8oPa2sDf6gHj1k"


class FakeJournal:
    def mark(self) -> int:
        return 0

    def since(self, mark: int) -> list[Any]:
        return []


class FakeWorld:
    journal = FakeJournal()

    def __init__(self) -> None:
        self.keys = {KEY: "user:alice@example.com#1"}

    def secrets(self) -> list[str]:
        return list(self.keys)

    def key_identity(self, key: str) -> str:
        return self.keys.get(key, "unknown:00000000")


def invocation(stdout: str = "") -> Any:
    return SimpleNamespace(timed_out=False, exit_code=0, stdout=stdout, stderr="", changes=[])


def test_a_made_up_key_keeps_only_its_shape() -> None:
    assert shape_of("aZ9 /%ü") == [LOWER, UPPER, DIGIT, " ", "/", "%", "ü"]


def test_keys_hosts_and_homes_become_tokens(tmp_path: Path) -> None:
    tok = Tokens({KEY}, lambda k: "user:alice@example.com#1", {"127.0.0.1:4431": "console"},
                 {1: tmp_path})
    tok.learn(["my made-up key 1"])
    text = tok.text(f"login 127.0.0.1:4431 {KEY} {encode_basic(KEY)} {tmp_path}/x "
                    "my made-up key 1")
    assert KEY not in text and encode_basic(KEY) not in text and str(tmp_path) not in text
    assert text == ("login {{host console}} {{key user:alice@example.com#1}} "
                    "{{basic key user:alice@example.com#1}} {{home 1}}/x {{drawn 0}}")
    assert as_identities(text).startswith("login <console> <user:alice@example.com#1> "
                                         "<basic of user:alice@example.com#1>")


def test_hand_edits_are_found_between_two_invocations() -> None:
    before = {"a": FileSnapshot(0o600, b"x"), "gone": FileSnapshot(0o600, b"y")}
    after = {"a": FileSnapshot(0o000, b"x"), "link": FileSnapshot(0o777, b"", "symlink", 0, "a")}
    edits = hand_edits(before, after)
    assert {"action": "write", "path": "a", "mode": "0o0", "text": "x"} in edits
    assert {"action": "remove", "path": "gone"} in edits
    assert {"action": "symlink", "path": "link", "target": "a"} in edits


def test_only_the_failing_example_is_kept(tmp_path: Path, monkeypatch: Any) -> None:
    import conformance.replay.trail as trail_module

    world = FakeWorld()
    trail = Trail(world, "standard", SimpleNamespace(name="reference"))
    session = SimpleNamespace(home=tmp_path)
    current = {"n": 1}
    monkeypatch.setattr(trail_module, "_example", lambda: current["n"])
    for number in (1, 2, 3):
        current["n"] = number
        trail.started()
        trail.ran(session, "login", [f"example {number}", "--password", KEY], {}, None, None,
                  {}, {}, invocation())
        if number == 2:
            trail.example_failed()
    data = trail.export(world.secrets(), {KEY}, world.key_identity)
    runs = [step for step in data["steps"] if step["kind"] == "run"]
    assert [step["args"][0] for step in runs] == ["example 2"]
    # A key the check typed carries its shape, should serve not have it at replay time.
    assert runs[0]["args"][2] == "{{key user:alice@example.com#1 0}}"
    assert KEY not in repr(data)


def test_a_run_in_a_project_directory_records_where(tmp_path: Path) -> None:
    world = FakeWorld()
    trail = Trail(world, "standard", SimpleNamespace(name="reference"))
    (tmp_path / "work" / "project-1").mkdir(parents=True)
    for workdir in (tmp_path / "work", tmp_path / "work" / "project-1"):
        trail.started()
        trail.ran(SimpleNamespace(home=tmp_path, workdir=workdir), "apps", [], {}, None, None,
                  {}, {}, invocation())
    trail.example_failed()
    data = trail.export(world.secrets(), {KEY}, world.key_identity)
    runs = [step for step in data["steps"] if step["kind"] == "run"]
    assert [step.get("cwd") for step in runs] == [None, "work/project-1"]


def test_a_replay_compares_fresh_ids_by_kind() -> None:
    recorded = {"exit": "0", "stdout": "id 9cfca657-84a4-40e2-a053-18290bd68fd5 R1B800F80A5",
                "stderr": "", "files": [], "requests": ["cli rack GET /auth 401 unknown:0dce47e0"]}
    fresh = {"exit": "0", "stdout": "id 11111111-2222-3333-4444-555555555555 R0000AAAA11",
             "stderr": "", "files": [], "requests": ["cli rack GET /auth 401 unknown:12345678"]}
    assert difference(recorded, fresh) is None
    assert "exit 1 here, 0" in (difference(recorded, {**fresh, "exit": "1"}) or "")


def test_keys_are_matched_by_generation_relative_to_the_first_used() -> None:
    world = FakeWorld()
    world.keys = {"k1": "user:alice@example.com#1", "k2": "user:alice@example.com#2"}
    keys = Keys(world, [])
    # The failing run began at generation 7 (earlier examples regenerated the key).
    assert keys.key("user:alice@example.com#7") == "k2"
    assert keys.recorded_identity("k2") == "user:alice@example.com#7"


class FakeValues:
    """A replay's values for each token, fixed (conformance.replay.tokens.TokenValues)."""

    def key(self, identity: str, shape: str) -> str:
        return f"K({identity},{shape})"

    def drawn(self, number: int) -> str:
        return f"D{number}"

    def new(self, identity: str, number: int) -> str:
        return f"N({identity},{number})"

    def host(self, server: str) -> str:
        return f"H({server})"

    def home(self, number: int) -> str:
        return f"/home{number}"


def test_tokens_are_read_back_by_the_one_module_that_writes_them() -> None:
    from conformance.replay.tokens import fill, in_words, without_key_shapes

    text = ("{{host console}} {{key user:a#1}} {{key user:a#1 0}} {{drawn 2}} "
            "{{new rack:o/r#2 3}} {{basic key user:a#1}} {{b64 drawn 2}} {{home 1}}")
    assert fill({"x": [text]}, FakeValues()) == {"x": [
        f"H(console) K(user:a#1,) K(user:a#1,0) D2 N(rack:o/r#2,3) "
        f"{encode_basic('K(user:a#1,)')} {base64.b64encode(b'D2').decode()} /home1"]}
    assert without_key_shapes("{{key user:a#1 0}} {{basic key user:a#1 4}}") == (
        "{{key user:a#1}} {{basic key user:a#1}}")
    assert in_words("{{key user:a@b#1}} {{host console}} {{drawn 0}}") == (
        "<key of a@b> <Console> <a key the check made up>")
