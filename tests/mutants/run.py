"""Run the reference CLI with one mutant applied: ``run.py NAME [cli args...]``.

Started as a script by the conformance runner (cwd is the isolated home, not
this repository), so it puts the repository on ``sys.path`` itself.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fakes.reference_cli import main as entry
from tests.mutants import all_mutants


def main() -> int:
    name, args = sys.argv[1], sys.argv[2:]
    mutants = all_mutants()
    if name not in mutants:
        print(f"unknown mutant {name!r}", file=sys.stderr)
        return 2
    mutants[name].apply()
    return entry.main(args)


if __name__ == "__main__":
    sys.exit(main())
