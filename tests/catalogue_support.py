"""Small rule catalogues written to ``tmp_path``, shared by the catalogue's tests.

The schema tests and the check-link tests both start from one demo area with two
rules quoting a two-sentence FAQ; one copy of it keeps their starting point the same.
"""

from __future__ import annotations

from pathlib import Path

DEMO_FAQ = "Demo FAQ\n\nAlpha logs in to a host. Beta switches\nthe rack, e.g. prod.\n"
NOT_RULES = '[[sentences]]\ntext = "Demo FAQ"\nwhy = "Heading."\n'

HEAD = """
area = "DEMO"
title = "Demo area"
summary = "A small area for tests."
checks = ["conformance/checks/test_demo.py"]
"""

RULE_1 = """
[[rules]]
id = "DEMO-001"
title = "Alpha logs in"
level = "MUST"
sources = [{ faq = "Alpha logs in to a host." }]
needs = ["login"]
rationale = "Because users log in."
check = "Login exits 0."
"""

RULE_2 = """
[[rules]]
id = "DEMO-002"
title = "Beta switches"
level = "SHOULD"
sources = [
  { faq = "Beta switches the rack, e.g. prod." },
  { docs = "DOCS-api-keys-3", url = "https://convox.com/docs/api-keys/", says = "Stored." },
  { wire = "WIRE-switch", says = "Switch stores the selection." },
]
needs = ["login", "switch"]
rationale = "Because users switch."
check = "Switch exits 0."
"""


def make_specs(tmp_path: Path, files: dict[str, str] | None = None, *,
               faq: str | None = DEMO_FAQ, not_rules: str | None = NOT_RULES) -> Path:
    """A ``specs/`` under ``tmp_path``: the demo area unless ``files`` (name -> TOML) is given;
    ``faq`` or ``not_rules`` None leaves that source file out."""
    specs = tmp_path / "specs"
    (specs / "sources").mkdir(parents=True)
    if faq is not None:
        (specs / "sources" / "login-and-authentication-faq.txt").write_text(faq, "utf-8")
    if not_rules is not None:
        (specs / "sources" / "faq-not-rules.toml").write_text(not_rules, "utf-8")
    for name, text in (files if files is not None else {"demo": HEAD + RULE_1 + RULE_2}).items():
        (specs / f"{name}.toml").write_text(text, "utf-8")
    return specs
