"""Which rule covers each kind of set-up step (``specs/steps/covering-rules.toml``).

A check that cannot get its scenario started has not observed its rule, so it
must not fail; it is *blocked*, and the report names the rule that covers the
step that broke. That mapping is catalogue data, kept beside the rules so a
reader sees it in one hop, and loaded here once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from conformance import toml_file
from conformance.catalogue.loading import default_specs_dir

STEPS_FILE = ("steps", "covering-rules.toml")
PLACES = ("console", "rack")


class StepsError(Exception):
    """The covering-rules file is missing or malformed; ``str()`` is one line."""


def step_kind(operation: str, place: str) -> str:
    """The key of a step in the covering-rules table, e.g. ``login@console``."""
    return f"{operation}@{place}"


@functools.lru_cache(maxsize=1)
def covering_rules() -> Mapping[str, str]:
    """step kind -> rule id, from the shipped catalogue."""
    entry = default_specs_dir()
    for part in STEPS_FILE:
        entry = entry / part
    where = "specs/" + "/".join(STEPS_FILE)
    try:
        data = toml_file.load(entry)
    except (OSError, toml_file.NotToml) as exc:
        raise StepsError(f"{where}: cannot read: {exc}") from None
    steps = data.get("steps")
    if not isinstance(steps, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in steps.items()
    ):
        raise StepsError(f"{where}: [steps] must map step kinds to rule ids")
    for kind in steps:
        operation, _, place = kind.partition("@")
        if not operation or place not in PLACES:
            raise StepsError(f"{where}: step {kind!r} is not <operation>@console|rack")
    return dict(steps)


def covering_rule(operation: str, place: str) -> str | None:
    """The rule covering ``operation`` run at ``place``, or None if no rule covers it."""
    return covering_rules().get(step_kind(operation, place))
