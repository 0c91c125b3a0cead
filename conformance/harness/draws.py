"""What the property and model checks draw from: their strategies, wherever the suite lives.

Hypothesis (6.131 and later) also mixes into its draws the string and number
constants it finds in "local" modules: every imported module outside
site-packages and outside test directories. The suite's own modules are local
when it runs from a checkout or an editable install, and not when pip installed
it. So the same CLI would meet other examples, and could get another verdict,
depending on how the suite was installed. An installed suite sees no local
constants, and every run now draws as it does. (The official builds' published
verdicts were observed from a checkout, with the suite's constants in the pool;
tests/test_official_builds.py holds each build to them without.)
"""

from __future__ import annotations


def without_local_constants() -> bool:
    """Make Hypothesis find no local constants; whether it could be done.

    Hypothesis has no public setting for this. Its providers ask
    ``_get_local_constants()`` for the pool each time, so that function is
    replaced by one returning an empty pool (and a release that renames it is
    left alone: tests/test_draws.py then says so).
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:
        return False
    pool_type = getattr(providers, "Constants", None)
    if pool_type is None or not hasattr(providers, "_get_local_constants"):
        return False
    empty = pool_type()
    providers._get_local_constants = lambda: empty
    # Choices already cached with local constants in them would still be drawn.
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if cache is not None:
        cache.clear()
    return True
