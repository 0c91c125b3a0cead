"""Run the reference CLI with one variant applied: ``run.py [MODULE:]NAME [cli args...]``.

``run.py --shadow LOG [cli args...]`` runs the reference CLI itself with every
mutant in shadow (``shadow.py``), and appends to LOG which mutants the run
would have told apart from the reference.

Started as a script by the conformance runner (cwd is the isolated home, not
this repository), so it puts the repository on ``sys.path`` itself. With the
zoo module named, only that module is imported: the CLI under test starts
hundreds of times per run, and importing every zoo module each time would
make a variant slower than the CLI it stands for.
"""

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))

from reference_cli import main as entry


def shadowed(log: str, args: list[str]) -> int:
    import time

    from tests.mutants import killable, shadow

    started = time.time()
    shadow.install(killable())
    try:
        return entry.main(args)
    finally:
        shadow.report(log, started, args)


def main() -> int:
    if sys.argv[1] == "--shadow":
        return shadowed(sys.argv[2], sys.argv[3:])
    spec, args = sys.argv[1], sys.argv[2:]
    module, _, name = spec.rpartition(":")
    if module:
        mutants = importlib.import_module(f"tests.mutants.{module}").zoo.mutants
    else:
        from tests.mutants import all_mutants

        mutants = all_mutants()
    if name not in mutants:
        print(f"unknown mutant {name!r}", file=sys.stderr)
        return 2
    mutants[name].apply()
    return entry.main(args)


if __name__ == "__main__":
    # As the reference CLI's own entry points do: a variant must cost what it stands for.
    entry.exit_now(main())
