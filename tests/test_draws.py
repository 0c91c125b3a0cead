"""The property and model checks draw the same examples from a checkout as from an install.

Hypothesis mixes constants of "local" modules into its draws; the suite's modules
are local only in a checkout. Each case runs in a fresh interpreter, with a module
of its own made local by where it lies, and counts how often Hypothesis draws that
module's one unusual string. The strategy draws strings of that string's length
and letters only, so that it is the one constant Hypothesis may pick, and chance
alone would draw it about never.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Hypothesis takes strings of up to 20 characters from a module.
MARKER = "zq-local-7731"

DRAWS = f"""
import sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "patched":
    from conformance.harness.draws import without_local_constants
    assert without_local_constants()
import local_module  # noqa: F401  (a module outside site-packages: "local")
from hypothesis import given, settings, strategies as st
seen = []

@settings(max_examples=2000, database=None, derandomize=True)
@given(st.text(alphabet=sorted(set({MARKER!r})), min_size={len(MARKER)}, max_size={len(MARKER)}))
def draw(value):
    seen.append(value)

draw()
print(sum(value == {MARKER!r} for value in seen))
"""


def _marker_draws(tmp_path: Path, mode: str) -> int:
    local = tmp_path / "local"
    local.mkdir(exist_ok=True)
    (local / "local_module.py").write_text(f"NAME = {MARKER!r}\n")
    done = subprocess.run(
        [sys.executable, "-c", DRAWS, str(local), mode], capture_output=True, text=True,
        cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                           "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")},
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_a_local_modules_constants_are_not_drawn(tmp_path: Path) -> None:
    plain = _marker_draws(tmp_path, "plain")
    if plain == 0:
        pytest.skip("this Hypothesis draws no constants from local modules")
    assert _marker_draws(tmp_path, "patched") == 0, f"drawn {plain} times unpatched"


#: What Hypothesis would mix in, with the checks' conftest imported or not, once the
#: suite's own modules are loaded from this checkout (where they count as local).
POOL = """
import sys
if sys.argv[1] == "conftest":
    import conformance.checks.conftest  # noqa: F401
import conformance.checks.standard_world, fakes.backends.in_process  # noqa: E401, F401
from hypothesis.internal.conjecture.providers import _get_local_constants
print(len(_get_local_constants()))
"""


def test_the_checks_turn_local_constants_off(tmp_path: Path) -> None:
    """Importing the checks' conftest, as every run does before any check draws, empties
    the pool that the suite's own modules fill in a checkout."""

    def pool(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", POOL, mode], capture_output=True, text=True, cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                 "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")},
            timeout=300, check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return int(done.stdout.split()[-1])

    without = pool("plain")
    if without == 0:
        pytest.skip("this Hypothesis draws no constants from local modules")
    assert pool("conftest") == 0, f"{without} constants of the suite's modules in the pool"
