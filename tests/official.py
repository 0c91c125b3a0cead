"""The published official builds, as the project's tests read them.

``docs/official-cli-results/builds.toml`` names the builds; each build's page
beside it, rendered by ``convox-conformance publish`` from a real run, gives
every rule's verdict. That page is the one statement of what the suite says
about the build: the real build's run is held to it where the builds are
present (test_official_builds), and the build's emulation is held to it in
every ``tox`` (test_precision), so the emulation equals the real build rule
by rule through the page.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from conformance.report.writers.publish import Build, load_builds, page_verdicts

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "official-cli-results"
BUILDS_FILE = RESULTS / "builds.toml"

#: A rule status in results.json, as a page words it.
STATUS_WORDS = {"passed": "holds", "failed": "fails", "not-applicable": "not applicable",
                "not-checked": "not checked", "undecided": "undecided", "not-run": "not run"}


@cache
def builds() -> dict[str, Build]:
    return {build.name: build for build in load_builds(BUILDS_FILE)}


@cache
def published(name: str) -> dict[str, str]:
    """Rule id -> the verdict the build's page publishes (observed in the sandbox)."""
    return page_verdicts((RESULTS / builds()[name].page).read_text(encoding="utf-8"))


def expected(name: str, network: str) -> dict[str, str]:
    """The verdicts a run of the build (or its emulation) must give on ``network``.

    The pages are observed in the sandbox; on the host network the rules that
    need it are not checked instead, whatever the page says.
    """
    from tests.suite_support import sandbox_rules

    verdicts = dict(published(name))
    if network != "sandbox":
        for rule in sandbox_rules():
            if verdicts.get(rule) != "not applicable":
                verdicts[rule] = "not checked"
    return verdicts


def run_verdicts(data: dict[str, object]) -> dict[str, str]:
    """Rule id -> verdict word, from a run's results.json data."""
    rules = data["rules"]
    assert isinstance(rules, list)
    return {rule["id"]: STATUS_WORDS[rule["status"]] for rule in rules if rule.get("known", True)}


def differences(want: dict[str, str], got: dict[str, str]) -> list[str]:
    """Each rule whose verdict differs, as ``RULE: published X, ran Y``."""
    return [f"{rule}: published {want.get(rule, 'nothing')}, ran {got.get(rule, 'nothing')}"
            for rule in sorted(set(want) | set(got)) if want.get(rule) != got.get(rule)]
