"""No key of the run appears in any byte of any report file, whatever leaks it.

The synthetic check leaks its keys every way a check can: printed output, an
assertion message (pytest's rewriting prints compared values), a skip reason,
a log record, and evidence and a replay trail recorded by hand without
redaction (so its repro script must hold none either). The plugin's
own evidence path is covered by the end-to-end test with the real fakes.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from conformance.report.writers.redact import PLACEHOLDER, Scrubber, digest, secrets_of

KEYS = [secrets.token_hex(20) for _ in range(4)]

LEAKY_MODULE = f'''
import logging
import pytest

KEYS = {KEYS!r}

class FakeWorld:
    def secrets(self):
        return KEYS[:2]

class FakeCli:
    secrets = {{KEYS[2]}}

class Harness:
    world = FakeWorld()
    cli = FakeCli()

@pytest.fixture
def world():
    return FakeWorld()

@pytest.fixture
def convox():
    return Harness()

@pytest.mark.spec("ALPHA-001")
def test_prints_and_asserts(world, convox, request):
    print("the key is", KEYS[0])
    logging.getLogger("leak").error("key %s", KEYS[1])
    request.node.user_properties.append(("conformance.evidence", {{
        "invocations": [{{"operation": "login", "argv": ["convox", "login", "--password", KEYS[2]],
                         "exit_code": 1, "timed_out": False, "duration": 0.1,
                         "stdout": "using " + KEYS[0], "stderr": KEYS[1], "echo_off": None,
                         "files": []}}],
        "journal": [{{"seq": 1, "path": "/racks/" + KEYS[0], "key_identity": KEYS[1]}}],
    }}))
    request.node.user_properties.append(("conformance.trail", {{
        "version": 1, "world": "standard", "profile": "reference", "network": "host",
        "concurrent": False, "homes": 1, "drawn": [], "truncated": False,
        "steps": [{{"kind": "run", "home": 1, "operation": "login",
                    "args": ["--password", KEYS[2]], "env": {{"CONVOX_PASSWORD": KEYS[0]}},
                    "timeout": None, "typed": None,
                    "outcome": {{"exit": "1", "stdout": KEYS[1], "stderr": "", "files": [],
                                "requests": []}}}}],
    }}))
    assert {{"auth": KEYS[2]}} == {{"auth": "other"}}

@pytest.mark.spec("ALPHA-002")
def test_skip_reason(convox):
    pytest.skip("not applicable: cannot use " + KEYS[0])

@pytest.mark.spec("ALPHA-003")
def test_raises(world):
    raise RuntimeError("boom " + KEYS[1])
'''


def leaks(root: Path, keys: list[str]) -> list[str]:
    """Every (file, key) pair where the key, or its base64, appears in the file's bytes."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for key in keys:
            forms = (key.encode(), base64.b64encode(key.encode()))
            if any(form in data for form in forms):
                found.append(f"{path.name}: {key[:6]}…")
    return found


@pytest.mark.parametrize("mode", ["in-process", "xdist"])
def test_no_key_in_any_report_byte(run_checks, pytester, mode):
    args: tuple[str, ...] = ("-p", "xdist", "-n", "2") if mode == "xdist" else ()
    if mode == "xdist":
        pytest.importorskip("xdist")
    run = run_checks({"test_leaky": LEAKY_MODULE}, *args, subprocess=mode == "xdist")
    files = list((pytester.path / "reports").rglob("*"))
    assert any(p.name == "report.html" for p in files)
    assert any(p.suffix == ".sh" and p.parent.name == "repro" for p in files), "no repro script"
    assert leaks(pytester.path / "reports", KEYS[:3]) == []
    assert not [k for k in KEYS[:3] if k in run.text()], "the terminal never shows a key either"
    check = run.check("test_prints_and_asserts")
    assert check["outcome"] == "failed"
    assert PLACEHOLDER in check["evidence"]["invocations"][0]["argv"]
    assert PLACEHOLDER in check["details"]
    assert run.check("test_skip_reason")["reason"] == f"cannot use {PLACEHOLDER}"


def test_scrubber_by_digest_only():
    key = secrets.token_hex(20)
    scrub = Scrubber(digests=[digest(key)])
    assert scrub.text(f"key={key}; again {key}.") == f"key={PLACEHOLDER}; again {PLACEHOLDER}."
    assert scrub.hits == 2
    assert scrub.data({"a": [key, {"b": (key,)}]}) == {"a": [PLACEHOLDER, {"b": (PLACEHOLDER,)}]}
    assert scrub.text("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize("by", ["clear", "digest"])
def test_scrubbed_data_is_a_copy_only_when_something_was_scrubbed(by: str):
    key = secrets.token_hex(20)
    scrub = Scrubber(secrets=[key]) if by == "clear" else Scrubber(digests=[digest(key)])
    clean = {"a": ["nothing secret", {"b": ("here either",)}]}
    assert scrub.data(clean) is clean  # nothing to scrub: no copy made
    leaky = {"a": ["nothing secret", {"b": (f"key={key}",)}]}
    scrubbed = scrub.data(leaky)
    assert scrubbed == {"a": ["nothing secret", {"b": (f"key={PLACEHOLDER}",)}]}
    assert leaky["a"][1]["b"] == (f"key={key}",)  # the original is left as it was
    assert scrub.hits == 1


def test_scrubber_ignores_tiny_secrets_and_prefers_longest():
    long_key = "abcdefgh" * 5
    scrub = Scrubber(secrets=["x", long_key[:10], long_key])
    assert scrub.text(f"x {long_key}") == f"x {PLACEHOLDER}"


def test_secrets_of_reads_worlds_sessions_and_harnesses():
    class World:
        def secrets(self) -> list[str]:
            return ["w" * 40]

    class Cli:
        def __init__(self) -> None:
            self.secrets = {"c" * 40, "short"}

    class Harness:
        def __init__(self) -> None:
            self.world = World()
            self.cli = Cli()

    class Closed:
        def secrets(self) -> list[str]:
            raise RuntimeError("closed")

    assert secrets_of([Harness(), Closed(), None, 3]) == {"w" * 40, "c" * 40}
