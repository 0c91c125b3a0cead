"""Where a run's facts are kept on pytest's config and items, between the plugins.

The harness plugin settles the profile of the CLI under test and keeps it under
:data:`PROFILE_KEY`; the reports read it there to describe the run. The
report plugin's recorder (where checks run) and its session (where results are
gathered) share the rest. The keys live here, below both plugins, so neither
imports the other for them.
"""

from __future__ import annotations

import pytest

from conformance.report.model.results import RuleInfo, RunResult
from conformance.running.profiles import Profile

#: The validated profile of the CLI under test (set by the harness plugin).
PROFILE_KEY = pytest.StashKey[Profile]()
#: Tests (and embedders) may set (rules, area titles) here instead of the catalogue.
RULES_KEY = pytest.StashKey[tuple[list[RuleInfo], dict[str, str]]]()
RUN_SECRETS_KEY = pytest.StashKey[set[str]]()
ITEM_SECRETS_KEY = pytest.StashKey[set[str]]()
RESULT_KEY = pytest.StashKey[RunResult]()
#: check id -> rule ids of every spec check collected, before any deselection.
COLLECTED_KEY = pytest.StashKey[dict[str, list[str]]]()
#: The name under which an xdist worker sends the controller what it collected.
WORKER_COLLECTED = "conformance_collected"
