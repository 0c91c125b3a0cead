"""The whole suite run in the network sandbox, and without one: verdicts, reasons, credentials.

The tests make real namespaces (CI runs as root, where they always can);
elsewhere they are skipped with the reason, except under ``CI=true``, where a
sandbox that cannot be made is a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.mutants import all_mutants
from tests.sandbox.support import REPO, env


def profile_without_seam(tmp_path: Path) -> Path:
    """The reference profile with its resolve seam switched off."""
    text = (REPO / "conformance" / "profiles" / "reference.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("resolve_env")]
    path = tmp_path / "no-seam.toml"
    path.write_text("\n".join(lines).replace('name = "reference"', 'name = "no-seam"') + "\n")
    return path


def run_suite(tmp_path: Path, *args: str, **extra_env: str) -> tuple[subprocess.CompletedProcess,
                                                                      dict]:
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--no-color", "--report-dir", str(reports),
         *args],
        capture_output=True, text=True, cwd=tmp_path, env=env(**extra_env), check=False,
        timeout=600,
    )
    results_file = reports / "latest" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return done, results


def outcomes(results: dict) -> dict[str, tuple[str, str]]:
    return {rule: (check["outcome"], check.get("reason") or "")
            for check in results.get("checks", []) for rule in check["rules"]}


def test_the_suite_in_the_sandbox_with_two_workers(can_sandbox, untouched, tmp_path: Path) -> None:
    """No resolve seam: LOGIN-007, LOGIN-012 (with its unknown name), SECURITY-003 and
    SECURITY-008 apply and pass, under -n 2."""
    profile = profile_without_seam(tmp_path)
    names = ("LOGIN-007", "LOGIN-012", "SECURITY-003", "SECURITY-008")
    rules = [arg for rule in names for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, "--profile", str(profile), *rules, "--", "-n", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "network: sandbox" in done.stdout
    got = outcomes(results)
    assert {rule: got[rule][0] for rule in names} == dict.fromkeys(names, "passed")
    evidence = [e for check in results["checks"] for e in check["evidence"]["journal"]]
    assert any(e["server"] == "dns" and e["host_header"] == "console.convox.com"
               and e["invocation"] is not None for e in evidence)
    # LOGIN-012's name under .invalid was looked up, and got no address.
    login_012 = next(c for c in results["checks"] if "LOGIN-012" in c["rules"])
    unknown = [i for i in login_012["evidence"]["invocations"]
               if any("no-such-console.invalid" in arg for arg in i["argv"])]
    assert unknown and unknown[0]["exit_code"] == 1, login_012["evidence"]["invocations"]
    assert "no-such-console.invalid" in unknown[0]["stderr"]


def test_the_sandbox_alone_catches_a_cli_phoning_home(can_sandbox, tmp_path: Path) -> None:
    profile = profile_without_seam(tmp_path)
    mutant = all_mutants()["security-phones-home"]
    done, results = run_suite(tmp_path, "--profile", str(profile), "--cli", mutant.command(),
                              "--rule", "SECURITY-003")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    outcome, reason = outcomes(results)["SECURITY-003"]
    assert outcome == "failed"
    # Invocations 1 and 2 are version and a refused login (no report: it stores nothing);
    # the first accepted login phones home.
    assert "login (invocation 3) looked up api.segment.io and connected to it on 443" in (
        reason + done.stdout), reason


SANDBOX_RULES = ("LOGIN-007", "SECURITY-003", "SECURITY-008")


def test_without_a_sandbox_the_reference_is_not_conformant(untouched, tmp_path: Path) -> None:
    """PATH without unshare: the reference CLI, which passes everything else, is NOT CHECKED
    (exit 1), naming the three rules and the fix; its resolve seam does not stand in."""
    empty = tmp_path / "bin"
    empty.mkdir()
    rules = [arg for rule in ("LOGIN-001", *SANDBOX_RULES) for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, *rules, "--", "-k", "not test_model and not properties",
                              PATH=str(empty))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cause = "unshare (util-linux) is not on PATH"
    fix = "fix: install util-linux (apt-get, apk or dnf install util-linux)"
    line = (f"convox-conformance: network: host, no sandbox ({cause}); the rules that need the "
            f"sandbox are not checked; {fix}")
    assert done.stderr.count("convox-conformance: network: host, no sandbox") == 1, done.stderr
    assert line in done.stderr.splitlines()[0], done.stderr
    got = outcomes(results)
    assert got["LOGIN-001"][0] == "passed"
    assert {rule: got[rule][0] for rule in SANDBOX_RULES} == dict.fromkeys(SANDBOX_RULES,
                                                                           "not-checked")
    assert all(cause in got[rule][1] and fix in got[rule][1] for rule in SANDBOX_RULES)
    assert results["verdict"]["status"] == "not-checked"
    assert results["verdict"]["not_checked"] == list(SANDBOX_RULES)
    assert "CONFORMANT" not in done.stdout.replace("NOT CONFORMANT", "")
    verdict = next(x for x in done.stdout.splitlines() if x.startswith("verdict: "))
    assert verdict.startswith("verdict: NOT CHECKED, PARTIAL RUN (exit code 1")
    assert "3 not checked (LOGIN-007, SECURITY-003, SECURITY-008)" in verdict
    assert f"LOGIN-007, SECURITY-003, SECURITY-008 not checked: no network sandbox: {cause}; " \
        f"{fix}" in done.stdout
    must = results["summary"]["must"]
    assert [r["id"] for r in must["not_checked"]] == ["SECURITY-003", "SECURITY-008"]
    assert must["applicable"] == must["decided"] + 2

    asked, _ = run_suite(tmp_path, "--network", "sandbox", "--rule", "LOGIN-001",
                         PATH=str(empty))
    assert asked.returncode == 2
    assert asked.stderr.strip().splitlines() == [
        f"convox-conformance: --network sandbox: cannot make a sandbox here: {cause}; {fix}, "
        "or accept the loss with --network host"]


def test_the_host_network_on_request_gives_up_the_rules_and_says_so(tmp_path: Path) -> None:
    """--network host chosen: the gate passes (exit 0), as GATE PASSED, never CONFORMANT."""
    rules = [arg for rule in ("LOGIN-001", "SECURITY-003") for arg in ("--rule", rule)]
    done, results = run_suite(tmp_path, "--network", "host", *rules, "--", "-k",
                              "not test_model and not properties")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results["verdict"]["status"] == "gate-passed"
    assert results["verdict"]["not_checked"] == ["SECURITY-003"]
    assert "SECURITY-003 not checked: --network host was given" in done.stdout
    assert results["run"]["options"]["network"] == {
        "mode": "host", "why": "--network host was given", "fix": "", "chosen": True}


def test_real_credentials_are_masked_for_the_cli(can_sandbox, tmp_path: Path) -> None:
    """A CLI reading the (stand-in) real home finds nothing in the sandbox, and finds it without."""
    home = tmp_path / "stand-in-home"
    (home / ".convox").mkdir(parents=True)
    (home / ".convox" / "auth").write_text('{"console.convox.com": "MARKER-real-key"}')
    nosy = tmp_path / "nosy-cli"
    nosy.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys
        path = {str(home / ".convox" / "auth")!r}
        if os.path.exists(path):
            sys.exit("found the user's real credentials: " + open(path).read())
        sys.path.insert(0, {str(REPO)!r})
        from reference_cli.main import main
        sys.exit(main(sys.argv[1:]))
    """))
    nosy.chmod(0o755)
    args = ["run", "--no-color", "--no-reports", "--rule", "SECURITY-006", "--cli", str(nosy)]
    outside = subprocess.run([sys.executable, "-m", "conformance", *args, "--network", "host"],
                             capture_output=True, text=True, env=env(), cwd=tmp_path,
                             check=False, timeout=600)
    # The control: without the sandbox the nosy CLI does find them (and every login fails).
    assert "found the user's real credentials" in outside.stdout, outside.stdout[-3000:]
    assert " 1 passed" not in outside.stdout
    code = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from conformance.network import sandbox; "
         "sys.exit(sandbox.reexec(sys.argv[2:], home=Path(sys.argv[1])))",
         str(home), *args],
        capture_output=True, text=True, env=env(), cwd=tmp_path, check=False, timeout=600,
    )
    assert code.returncode == 0, code.stdout[-3000:] + code.stderr[-3000:]
    assert " 1 passed" in code.stdout and "found the user's real credentials" not in code.stdout
