"""The CI example and the README only use options the command really has."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from conformance.commands.main import build_parser

ROOT = Path(__file__).resolve().parents[2]


def help_of(*command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        build_parser().parse_args([*command, "--help"])
    return out.getvalue()


def commands_in(text: str) -> list[tuple[str, list[str]]]:
    """(subcommand, options) of every `convox-conformance <sub> ...` command in a text."""
    text = re.sub(r">\n\s+", " ", text)  # YAML folded scalar: first line
    text = re.sub(r"\n {10,}(?=\S)", " ", text)  # ... and its continuation lines
    pattern = (r"convox-conformance (run|smoke|matrix|expectations update|profiles|rules)"
               r"((?:[ \t]+[^\s`|]+)*)")
    found = []
    for match in re.finditer(pattern, text):
        options = re.findall(r"(--[a-z][a-z-]*)", match.group(2).split(" -- ")[0])
        found.append((match.group(1), options))
    return found


@pytest.mark.parametrize("doc", ["docs/ci/github-actions.yml", "docs/ci/matrix.yml", "README.md"])
def test_documented_options_exist(doc):
    commands = commands_in((ROOT / doc).read_text(encoding="utf-8"))
    assert commands
    for sub, options in commands:
        if sub in ("serve",):
            continue
        text = help_of(*sub.split())
        for option in options:
            assert option in text, f"{doc}: convox-conformance {sub} has no {option}"


def test_ci_installs_chromium_before_the_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.rstrip().endswith("pip install tox && tox")
    assert script.index("apt-get install -y chromium") < script.index("pip install tox && tox")


def test_9_readme_documents_every_profile_field_and_what_the_fakes_answer():
    from conformance.running.profiles import OPERATION_PLACEHOLDERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    fields = ["layout.config_dir", "layout.target_file", "layout.auth_file", "layout.selection",
              "layout.env", "trust.ca_env", "trust.resolve_env", "host_form", "command"]
    fields += [f"operations.{name}" for name in OPERATION_PLACEHOLDERS
               if name not in ("apps", "rack_info")] + ["`apps`", "`rack_info`"]
    for field in fields:
        assert f"`{field.strip('`')}`" in readme, field
    assert "**The resolve map**" in readme and "name:port=ip:port" in readme
    section = readme[readme.index("## What the fakes answer"):]
    section = section[:section.index("\n## ", 5)]
    for route in ("`GET /auth`", "`GET /racks`", "`GET /apps`", "`GET /system`"):
        assert route in section, route
    assert '{"id": "<user id>"}' in section and "`ok`" in section


def test_ci_example_shows_the_gate_option():
    workflow = (ROOT / "docs" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    assert "--fail-on should" in workflow and "--fail-on must" in workflow
