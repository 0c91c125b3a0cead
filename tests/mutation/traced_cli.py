"""The reference CLI under coverage, for the mutation run's map of which check runs which line.

The mutation score copies this file to the root of its throwaway tree and runs
the suite once with it as the CLI under test. The conformance runner starts it
with the isolated home as its working directory and a scrubbed environment, so
everything it needs is found beside it: the tree is this file's directory, and
``.current-check`` there names the check being run (``check_marker`` writes it).
Each process saves its lines under that check's name as coverage's static
context, in ``.coverage-map/``.
"""

import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)


def main() -> int:
    import coverage

    with open(os.path.join(HERE, ".current-check"), encoding="utf-8") as handle:
        check = handle.read().strip()
    measured = coverage.Coverage(
        data_file=os.path.join(HERE, ".coverage-map", "lines"), data_suffix=True,
        include=[os.path.join(HERE, "reference_cli", "*")], context=check,
        config_file=False,
    )
    measured.start()
    try:
        from reference_cli import main as entry

        return entry.main(sys.argv[1:])
    finally:
        measured.stop()
        measured.save()


if __name__ == "__main__":
    sys.exit(main())
