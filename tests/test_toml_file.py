"""The one TOML reader of the conformance side, and the one secret replacer.

Every caller words its own errors and picks its own secrets and labels; what
they share is tested here once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import toml_file
from conformance.redaction import REDACTED, longest_first, replace_secrets


class Boom(Exception):
    """A caller's own error class."""


def test_read_words_each_failure_for_a_user_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(Boom, match=r"^profile .*missing\.toml: file not found$"):
        toml_file.read(missing, "profile", Boom)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"a = \xff\n")
    with pytest.raises(toml_file.TomlFileError, match=r"^builds .*bad\.toml: cannot read: "
                       r"'utf-8' codec can't decode byte 0xff"):
        toml_file.read(bad, "builds")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[x]\n", encoding="utf-8")
    with pytest.raises(Boom, match=r"^expectations .*broken\.toml: not valid TOML: "):
        toml_file.read(broken, "expectations", Boom)
    with pytest.raises(Boom, match=r"cannot read: \[Errno 21\]"):
        toml_file.read(tmp_path, "profile", Boom)


def test_load_reads_line_ends_as_read_text_does_unless_told_not_to(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_bytes(b'a = 1\rb = "x"\r\n')
    assert toml_file.load(path) == {"a": 1, "b": "x"}
    with pytest.raises(toml_file.NotToml):
        toml_file.load(path, universal_newlines=False)
    path.write_bytes(b"\xfe")
    with pytest.raises(toml_file.NotUtf8):
        toml_file.load(path)
    with pytest.raises(FileNotFoundError):  # the caller words what the file system says
        toml_file.load(tmp_path / "nothing.toml")


def test_secrets_are_replaced_longest_first_and_counted() -> None:
    secrets = longest_first({"abc", "abcdef"})
    assert secrets == ["abcdef", "abc"]
    asked: list[str] = []

    def label(secret: str) -> str:
        asked.append(secret)
        return f"<{len(secret)}>"

    text, hits = replace_secrets("abcdef abc abc", secrets, label)
    assert (text, hits) == ("<6> <3> <3>", 3)
    assert replace_secrets("nothing here", secrets, label) == ("nothing here", 0)
    assert asked == ["abcdef", "abc"]  # asked only for secrets the text held
    assert REDACTED == "<redacted>"
