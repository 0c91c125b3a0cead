"""Results of a conformance run and everything that reports on them.

One in-memory model (:mod:`conformance.report.model.results`) is built from pytest's
reports and every output is rendered from it: ``results.json``,
``junit.xml``, ``report.html``, ``summary.md``, the terminal table and the
cross-implementation matrix. Keeping one model means the files can never
disagree about what happened.
"""

SCHEMA_VERSION = 3
#: Versions ``RunResult.from_dict`` reads (baselines and matrices of older runs).
READABLE_VERSIONS = (1, 2, 3)
