"""Settings shared by every check module: Hypothesis's, and pytest's assertion rewriting."""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.configuration import set_hypothesis_home_dir

from conformance.harness.draws import without_local_constants

# pytest rewrites the asserts of test_*.py only. The support modules beside them (the
# model check's machine, helpers the check modules share) assert too, and a failure
# there must read as it would in a check module, with pytest's explanation after the
# message. Every non-test module of the package is registered here, before any check
# module imports it, so a new one cannot be forgotten.
pytest.register_assert_rewrite(*(
    f"conformance.checks.{path.stem}" for path in sorted(Path(__file__).parent.glob("*.py"))
    if not path.stem.startswith("test_") and path.stem not in ("__init__", "conftest")
))

# Hypothesis keeps caches in ./.hypothesis by default: that would be the user's
# project directory, which a conformance run has no business writing to.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "convox-conformance-hypothesis"))

# The same examples whether the suite runs from a checkout or was pip installed
# (conformance/harness/draws.py).
without_local_constants()

# Property checks run a real CLI per example: few examples, no deadline, no
# database written into the user's directory, and the same examples in CI.
# Six examples: every variant in the zoo that only the model check or a property
# catches fails by the third (measured with 3, 4, 6 and 12); the model check alone
# was a fifth of a run at 12. CONFORMANCE_EXAMPLES=50 searches deeper.
def _examples() -> int:
    """$CONFORMANCE_EXAMPLES, or 6 (`convox-conformance run` refuses a bad value in one line
    before pytest starts; a plain pytest run takes the default)."""
    text = os.environ.get("CONFORMANCE_EXAMPLES", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 6


settings.register_profile(
    "conformance",
    max_examples=_examples(),
    deadline=None,
    database=None,
    derandomize=True,
    # The explain phase reruns a failing example many times, each rerun real CLI
    # processes: minutes per failure for little gain over the shrunk example.
    # CONFORMANCE_SHRINK=0 skips shrinking: a faster red, a longer failing example.
    phases=(Phase.explicit, Phase.reuse, Phase.generate)
    + ((Phase.shrink,) if os.environ.get("CONFORMANCE_SHRINK", "1") != "0" else ()),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("conformance")
