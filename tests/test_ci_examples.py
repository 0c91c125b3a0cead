"""The CI examples in docs/ci make the network sandbox, or say plainly that they cannot.

Why: LOGIN-007, SECURITY-003 and SECURITY-008 can only be checked inside the
sandbox. A CI example whose machine cannot make it (Ubuntu 24.04's AppArmor
restriction on GitHub's ubuntu-latest, a container without CAP_SYS_ADMIN) runs
on the host network and leaves those security rules unchecked, and whoever
copies the example never learns why. So the examples lift the restriction
first and ask for ``--network sandbox``, which fails loudly where no sandbox
can be made; only the macOS cells, which can never have one, pass
``--network host`` knowingly.

Each check reads an example's structure from ``yaml.safe_load`` and its comments
from the text, and returns its problems in plain words; the last test breaks
each example in one place and expects a problem, so none of the checks can pass
by finding nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

CI = Path(__file__).resolve().parents[1] / "docs" / "ci"
SYSCTL_LINE = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
SYSCTL = re.compile(rf"\b{re.escape(SYSCTL_LINE)}\b")
USERNS = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
GUARD = re.compile(rf"-e {re.escape(USERNS)}\b")
RUN = "convox-conformance run"
RULES = ("LOGIN-007", "SECURITY-003", "SECURITY-008")
JUNIT = "reports/latest/junit.xml"

Example = tuple[str, Any]  # the text (for its comments) and its parsed YAML
Step = dict[str, Any]


def load(name: str) -> Example:
    text = (CI / name).read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def dig(node: Any, *keys: str) -> Any:
    """``node[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def job_steps(doc: Any, job: str) -> list[Step]:
    return dig(doc, "jobs", job, "steps") or []


def script(step: Step) -> str:
    return str(step.get("run") or "")


def networks(command: str) -> list[str]:
    """The values of every --network in a command; ``${{ ... }}`` counts as one."""
    return re.findall(r"--network[ =](\$\{\{.*?\}\}|\S+)", command)


def first(entries: list[Any], found: Callable[[Any], object]) -> int | None:
    return next((i for i, entry in enumerate(entries) if found(entry)), None)


def lifts(step: Step) -> bool:
    return bool(SYSCTL.search(script(step)))


def runs(step: Step) -> bool:
    return RUN in script(step)


def sandbox_step_problems(steps: list[Step], where: str) -> list[str]:
    """The step lifting the AppArmor restriction exists, is guarded, and comes before the run."""
    lift, run = first(steps, lifts), first(steps, runs)
    problems = []
    if run is None:
        problems.append(f"{where}: no step runs `{RUN}`")
    if lift is None:
        problems.append(f"{where}: no step runs `{SYSCTL_LINE}` (runner-images#10443)")
    elif run is not None and lift > run:
        problems.append(f"{where}: the sysctl step comes after the `{RUN}` step")
    elif not GUARD.search(script(steps[lift])):
        problems.append(f"{where}: the sysctl is written without checking that it exists")
    return problems


# --- the checks, one per example ----------------------------------------------------------


def github_problems(text: str, doc: Any) -> list[str]:
    where = "github-actions.yml"
    steps = job_steps(doc, "conformance")
    problems = sandbox_step_problems(steps, where)
    run = first(steps, runs)
    asked = networks(script(steps[run])) if run is not None else []
    if run is not None and asked != ["sandbox"]:
        problems.append(f"{where}: the run passes --network {asked}, not just `--network sandbox`")
    header = "\n".join(line for line in text.splitlines()[:20] if line.startswith("#"))
    if "NOT CHECKED" not in header:
        problems.append(f"{where}: the header's exit codes do not name NOT CHECKED")
    return problems


def matrix_problems(text: str, doc: Any) -> list[str]:
    where = "matrix.yml"
    matrix = dig(doc, "jobs", "conformance", "strategy", "matrix") or {}
    systems = [str(name) for name in matrix.get("os") or []]
    extra: dict[str, dict[str, Any]] = {}
    for cell in matrix.get("include") or []:
        extra.setdefault(str(cell.get("os", "")), {}).update(cell)
    steps = job_steps(doc, "conformance")
    problems = sandbox_step_problems(steps, where)
    lift, run = first(steps, lifts), first(steps, runs)
    if lift is not None and steps[lift].get("if") != "runner.os == 'Linux'":
        problems.append(f"{where}: the sysctl step is not `if: runner.os == 'Linux'`")
    wanted = {"ubuntu": "sandbox", "macos": "host"}
    if not all(any(name.startswith(prefix) for name in systems) for prefix in wanted):
        problems.append(f"{where}: matrix.os is {systems}, not Linux and macOS")
    asked = networks(script(steps[run])) if run is not None else []
    if len(asked) != 1:
        return [*problems, f"{where}: the run passes --network {asked}, not one value"]
    expression = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", asked[0])
    for name in systems:
        value = extra.get(name, {}).get(expression.group(1)) if expression else asked[0]
        want = next((net for prefix, net in wanted.items() if name.startswith(prefix)), None)
        if want is not None and value != want:
            problems.append(f"{where}: the {name} cells run with --network {value}, not {want}")
    if not all(rule in text for rule in RULES):
        problems.append(f"{where}: no comment names the rules the macOS cells give up: {RULES}")
    return problems


def job_commands(job: Any) -> list[str]:
    """A GitLab job's before_script and script commands, in the order they run."""
    lists = [dig(job, key) or [] for key in ("before_script", "script")]
    return [str(command) for commands in lists for command in commands]


def gitlab_problems(text: str, doc: Any) -> list[str]:
    where = "gitlab-ci.yml"
    jobs = [job for job in (doc or {}).values() if any(RUN in c for c in job_commands(job))]
    if not jobs:
        return [f"{where}: no job runs `{RUN}`"]
    job, commands = jobs[0], job_commands(jobs[0])
    run = first(commands, lambda command: RUN in command)
    install = first(commands, lambda command: "util-linux" in command)
    problems = []
    if run is None or networks(commands[run]) != ["sandbox"]:
        problems.append(f"{where}: `{RUN}` does not pass just `--network sandbox`")
    if install is None or (run is not None and install > run):
        problems.append(f"{where}: util-linux is not installed (if missing) before the run")
    junit = dig(job, "artifacts", "reports", "junit")
    if junit != JUNIT:
        problems.append(f"{where}: artifacts:reports:junit is {junit}, not {JUNIT}")
    # The runner's settings: a job cannot grant them, so they may only be comments.
    notes = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for setting in ("privileged = true", 'cap_add = ["SYS_ADMIN"]', "seccomp:unconfined",
                    "apparmor:unconfined", "[runners.docker]"):
        if setting not in notes:
            problems.append(f"{where}: the comments do not show the runner's `{setting}`")
    if not SYSCTL.search(notes):
        problems.append(f"{where}: the comments do not give the shell executor's sysctl")
    return problems


CHECKS: dict[str, Callable[[str, Any], list[str]]] = {
    "github-actions.yml": github_problems,
    "matrix.yml": matrix_problems,
    "gitlab-ci.yml": gitlab_problems,
}


def test_the_checks_see_the_steps() -> None:
    # The step checks mean something only if they find the workflows' steps.
    assert len(job_steps(load("github-actions.yml")[1], "conformance")) >= 8
    assert len(job_steps(load("matrix.yml")[1], "conformance")) >= 6


def test_github_example_lifts_apparmor_before_a_sandboxed_run() -> None:
    assert github_problems(*load("github-actions.yml")) == []


def test_matrix_sandboxes_linux_cells_and_runs_macos_on_the_host_knowingly() -> None:
    assert matrix_problems(*load("matrix.yml")) == []


def test_gitlab_example_asks_for_the_sandbox_and_says_what_the_runner_needs() -> None:
    assert gitlab_problems(*load("gitlab-ci.yml")) == []


# --- breaking each example in one place ---------------------------------------------------


def _sysctl_step_last(doc: Any) -> None:
    steps = job_steps(doc, "conformance")
    lift = first(steps, lifts)
    assert lift is not None
    steps.append(steps.pop(lift))


Edit = tuple[str, str] | Callable[[Any], object]  # a text replacement, or a change to the data
BREAKS: list[tuple[str, str, Edit]] = [
    ("github-actions.yml", "no-network", ("    --network sandbox\n", "")),
    ("github-actions.yml", "network-auto", ("k sandbox", "k auto")),
    ("github-actions.yml", "no-sysctl", (SYSCTL_LINE, ":")),
    ("github-actions.yml", "sysctl-after-run", _sysctl_step_last),
    ("github-actions.yml", "unguarded", (f"[ -e {USERNS} ]", "true")),
    ("github-actions.yml", "header", ("NOT CHECKED", "NOT CONFORMANT")),
    ("matrix.yml", "macos-sandbox", ("network: host", "network: sandbox")),
    ("matrix.yml", "linux-host", ("network: sandbox", "network: host")),
    ("matrix.yml", "no-if", ("        if: runner.os == 'Linux'\n", "")),
    ("matrix.yml", "no-sysctl", (SYSCTL_LINE, ":")),
    ("matrix.yml", "no-network", ("    --network ${{ matrix.network }}\n", "")),
    ("matrix.yml", "rules-unnamed", ("SECURITY-008", "the rest")),
    ("gitlab-ci.yml", "network-auto", ("k sandbox", "k auto")),
    ("gitlab-ci.yml", "no-privileged", ("privileged = true", "")),
    ("gitlab-ci.yml", "no-sys-admin", ("SYS_ADMIN", "NET_ADMIN")),
    ("gitlab-ci.yml", "no-util-linux", ("util-linux", "coreutils")),
    ("gitlab-ci.yml", "junit", ("junit: reports/latest/", "junit: ")),
    ("gitlab-ci.yml", "no-sysctl", ("#   sysctl -w", "#   echo")),
]


@pytest.mark.parametrize(
    ("name", "edit"),
    [pytest.param(name, edit, id=f"{name}-{label}") for name, label, edit in BREAKS],
)
def test_a_broken_example_is_caught(name: str, edit: Edit) -> None:
    text, doc = load(name)
    if callable(edit):
        edit(doc)
    else:
        text = text.replace(*edit)
        doc = yaml.safe_load(text)
    assert (text, doc) != load(name), f"{name}: this break no longer applies; update it"
    assert CHECKS[name](text, doc), f"{name}: a broken example passed its check"
