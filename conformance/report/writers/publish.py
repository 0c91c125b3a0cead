"""Published results: one page per CLI build and a comparison page, from real runs.

A page says what the suite decided about one build, rule by rule, with each
failing rule's evidence as the run recorded it and the upstream issue its
expectations entry links. The pages are rendered from runs, never written by
hand, so a changed verdict shows up as a changed page. They can be read back
(:func:`page_verdicts`): the project's tests hold a build's run, and an
emulation of it, to the verdicts its page publishes.

The builds are data (a TOML file, see :func:`load_builds`)::

    [[build]]
    name = "convox-rack-20260421192651"   # the binary's file name, and the page's
    title = "the v2 CLI"
    profile = "convox-rack"
    source = "https://github.com/convox/rack"
    tag = "20260421192651"
    commit = "3fc6cc6d5e91b59cc7185b5ea53c63be4e8116d1"
    expectations = "../expectations/convox-rack-20260421192651.toml"  # from this file
    [build.lacks]                         # capabilities the build truly lacks
    CONTEXT-001 = "reads a project's rack from .convox2/rack, not .convox/rack"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from conformance import toml_file
from conformance.report.model.results import CheckResult, RunResult
from conformance.report.model.scoring import (
    DECIDED_FAIL,
    UNDECIDED,
    not_applicable_why,
    not_checked_why,
    undecided_why,
)

#: A rule's status (scoring.rule_status) as a page words it.
WORDS = {
    "passed": "holds",
    "failed": "**fails**",
    "not-applicable": "not applicable",
    "not-checked": "not checked",
    UNDECIDED: "undecided",
    "not-run": "not run",
}
#: The verdict words a page's rule table may hold, read back.
VERDICTS = tuple(word.strip("*") for word in WORDS.values())
ROW = re.compile(r"^\| (?P<id>[A-Z]+-\d{3}) \| (?P<level>MUST|SHOULD) \| .*? \| "
                 r"(?P<verdict>" + "|".join(re.escape(w) for w in WORDS.values()) + r") \|")
_FIELDS = {"name", "title", "profile", "source", "tag", "commit", "expectations", "lacks"}
_REQUIRED = ("name", "title", "profile", "source", "tag", "commit")
EVIDENCE_CHARS = 400


class PublishError(Exception):
    """The builds file or a run cannot be used; ``str()`` is one line."""


@dataclass(frozen=True)
class Build:
    """One published CLI build, as the builds file describes it."""

    name: str
    title: str
    profile: str
    source: str
    tag: str
    commit: str
    expectations: Path | None = None
    #: Rule -> the capability the build lacks that makes checks it covers blocked.
    lacks: dict[str, str] = field(default_factory=dict)

    @property
    def page(self) -> str:
        return f"{self.name}.md"


def load_builds(path: Path) -> list[Build]:
    """Read and validate a builds file; every problem in one line."""
    raw = toml_file.read(path, "builds", PublishError)
    entries = raw.get("build")
    if not isinstance(entries, list) or not entries:
        raise PublishError(f"builds {path}: no [[build]] entries")
    builds, problems = [], []
    for index, entry in enumerate(entries, 1):
        where = f"build {index}"
        unknown = sorted(set(entry) - _FIELDS)
        missing = [name for name in _REQUIRED if not isinstance(entry.get(name), str)
                   or not entry[name].strip()]
        lacks = entry.get("lacks", {})
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"{where}: missing or empty {', '.join(missing)}")
        if not isinstance(lacks, dict) or not all(isinstance(v, str) for v in lacks.values()):
            problems.append(f"{where}: lacks must map a rule id to a sentence")
            lacks = {}
        if unknown or missing:
            continue
        expectations = entry.get("expectations")
        builds.append(Build(
            name=entry["name"], title=entry["title"], profile=entry["profile"],
            source=entry["source"], tag=entry["tag"], commit=entry["commit"],
            expectations=(path.parent / expectations).resolve() if expectations else None,
            lacks=dict(lacks)))
    names = [b.name for b in builds]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        problems.append(f"build(s) named twice: {', '.join(doubled)}")
    if problems:
        raise PublishError(f"builds {path}: " + "; ".join(problems))
    return builds


def page_verdicts(text: str) -> dict[str, str]:
    """A page's rule table read back: rule id -> verdict word (``fails``, ``holds``...)."""
    found = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            found[match["id"]] = match["verdict"].strip("*")
    return found


def statuses(result: RunResult) -> dict[str, str]:
    """Rule id -> its verdict word, for every catalogue rule of the run."""
    return {rule.id: WORDS[result.rule_status(rule.id)].strip("*")
            for rule in result.rules if rule.known}


# ----------------------------------------------------------------- rendering


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _plain(text: str, result: RunResult) -> str:
    """Evidence as a page keeps it, free of what differs from run to run: the CLI's
    path as ``convox``, the isolated home as ``~``, ports as PORT, no timings,
    journal ids or the random words checks put in server messages."""
    command = " ".join(result.run.cli_command)
    if command:
        text = text.replace(command, "convox")
    text = re.sub(r"/\S*?/home/", "~/", text)
    text = re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:PORT", text)
    text = re.sub(r"\bin \d+\.\d+s\b", "", text)
    # A reason cut short can end inside an id, and a journal's entry numbers count
    # what ran before: neither says anything about the build.
    text = re.sub(r" id=[0-9a-f]{1,16}(?:…|\b)", "", text)
    text = re.sub(r"#\d+ (cli|proxy)->", r"\1->", text)
    text = re.sub(r"\bcause-[0-9a-f]{8}\b", "cause-…", text)  # a check's word of its own
    text = " ".join(text.split())
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS - 1] + "…"


def _failing(result: RunResult, rule_id: str) -> list[CheckResult]:
    return [c for c in result.checks_of(rule_id)
            if c.outcome in DECIDED_FAIL and rule_id in c.blamed()]


def _upstream(checks: list[CheckResult]) -> str:
    for check in checks:
        link = (check.expectation or {}).get("link")
        if link:
            match = re.search(r"github\.com/([^/]+/[^/]+)/(issues|pull)/(\d+)", link)
            label = f"{match[1]}#{match[3]}" if match else "source"
            return f"[{label}]({link})"
    return "none found"


def render_build_page(build: Build, result: RunResult) -> str:
    """One build's page: what was run, the failing rules' evidence, every rule."""
    run = result.run
    network = run.options.get("network", {}) if isinstance(run.options, dict) else {}
    verdict_words = statuses(result)
    counts = {word: sum(1 for v in verdict_words.values() if v == word) for word in VERDICTS}
    lines = [
        f"# What the suite says about {build.title} ({build.tag})",
        "",
        "Generated by `convox-conformance publish` from a run of the build; do not edit.",
        "",
        "| | |", "|---|---|",
        f"| build | `{build.name}`, built unmodified from [{build.source}]({build.source}) |",
        f"| tag | [`{build.tag}`]({build.source}/tree/{build.tag}) |",
        f"| commit | [`{build.commit}`]({build.source}/commit/{build.commit}) |",
        f"| `--version` | `{run.cli_version or 'unknown'}` |",
        f"| profile | `{build.profile}` |",
        f"| observed | {run.started[:10]}, network `{network.get('mode', 'unknown')}`, "
        f"suite {run.suite_version} |",
        "",
        "## Summary",
        "",
        ", ".join(f"{counts[w]} {w}" for w in VERDICTS if counts[w]) + ".",
        "",
    ]
    if build.expectations is not None:
        lines += [f"Its known failures are in `expectations/{build.expectations.name}`;"
                  " a fork of this build can start from that file:", "", "```sh",
                  f"convox-conformance run --cli ./convox --profile {build.profile} \\",
                  f"    --expectations docs/expectations/{build.expectations.name}", "```", ""]
    failing = [r for r in result.rules if verdict_words.get(r.id) == "fails"]
    lines += ["## Failing rules", ""]
    if failing:
        lines += ["| rule | level | what the run saw | why | upstream |", "|---|---|---|---|---|"]
        for rule in failing:
            checks = _failing(result, rule.id)
            seen = _plain(checks[0].reason, result) if checks else ""
            why = next(((c.expectation or {}).get("reason", "") for c in checks
                        if c.expectation), "")
            lines.append(f"| {rule.id} | {rule.level} | {_cell(seen)} | {_cell(why)} | "
                         f"{_upstream(checks)} |")
    else:
        lines.append("None.")
    blocked = sorted((c for c in result.checks if c.outcome == "blocked"), key=lambda c: c.id)
    if blocked:
        lines += ["", "## Blocked checks", "",
                  "A check is blocked when a step before its observation failed; the rule "
                  "covering that step is named.", "",
                  "| check | blocked by | what the build lacks |", "|---|---|---|"]
        for check in blocked:
            lacks = build.lacks.get(check.blocked_by or "", "")
            lines.append(f"| `{check.id}` | {check.blocked_by or '?'} | {_cell(lacks)} |")
    lines += ["", "## Every rule", "", "| rule | level | title | verdict | note |",
              "|---|---|---|---|---|"]
    for rule in result.rules:
        if not rule.known:
            continue
        status = result.rule_status(rule.id)
        note = ""
        if status == "not-applicable":
            note = not_applicable_why(result.checks, rule.id)
        elif status == "not-checked":
            note = not_checked_why(result.checks, rule.id)
        elif status == UNDECIDED:
            note = undecided_why(result.checks, rule.id)
        lines.append(f"| {rule.id} | {rule.level} | {_cell(rule.title)} | {WORDS[status]} | "
                     f"{_cell(note)} |")
    return "\n".join(lines) + "\n"


def render_comparison(pairs: list[tuple[Build, RunResult]]) -> str:
    """Rules down, builds across: every verdict of every published build."""
    heads = " | ".join(f"[{b.title}]({b.page})" for b, _ in pairs)
    lines = [
        "# The official Convox CLIs against this suite",
        "",
        "Generated by `convox-conformance publish` from runs of the real builds; do not edit.",
        "Each build's page gives the evidence of every failing rule.",
        "",
        "| build | tag | `--version` | observed | MUST held / decided |",
        "|---|---|---|---|---|",
    ]
    for build, result in pairs:
        words = statuses(result)
        must = [r.id for r in result.rules if r.known and r.level == "MUST"]
        held = sum(1 for r in must if words[r] == "holds")
        decided = sum(1 for r in must if words[r] in ("holds", "fails"))
        lines.append(f"| [{build.title}]({build.page}) | `{build.tag}` | "
                     f"`{result.run.cli_version or 'unknown'}` | {result.run.started[:10]} | "
                     f"{held}/{decided} |")
    lines += ["", f"| rule | level | {heads} |", "|---|---|" + "---|" * len(pairs)]
    first = pairs[0][1]
    all_words = [statuses(result) for _, result in pairs]
    for rule in first.rules:
        if rule.known:
            cells = " | ".join(f"**{w[rule.id]}**" if w.get(rule.id) == "fails"
                               else w.get(rule.id, "not run") for w in all_words)
            lines.append(f"| {rule.id} | {rule.level} | {cells} |")
    return "\n".join(lines) + "\n"


def write(pairs: list[tuple[Build, RunResult]], out_dir: Path) -> list[Path]:
    """Each build's page and ``README.md`` (the comparison) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for build, result in pairs:
        path = out_dir / build.page
        path.write_text(render_build_page(build, result), encoding="utf-8")
        written.append(path)
    index = out_dir / "README.md"
    index.write_text(render_comparison(pairs), encoding="utf-8")
    return [*written, index]
