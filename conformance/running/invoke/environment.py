"""What a CLI under test inherits from the caller: a few variables, never credentials.

The suite runs somebody else's binary that manages real credentials. It must
never see the caller's ``CONVOX_*`` variables or proxy settings: a leaked
``CONVOX_PASSWORD`` would make a broken CLI look conformant, and a real key
could be sent to our fakes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The only variables taken from the caller; everything else is dropped.
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "SYSTEMROOT")

#: Dropped even if a profile's own environment is built on top of the caller's.
NEVER_PASSED = ("CONVOX_", "RACK_URL", "SSL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def is_forbidden(name: str) -> bool:
    """Whether a variable of this name may carry credentials, proxies or trust settings."""
    upper = name.upper()
    return upper.startswith(NEVER_PASSED) or upper.endswith("_PROXY")


def scrubbed_environ(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment reduced to what a CLI needs to start."""
    source = os.environ if source is None else source
    return {
        name: source[name]
        for name in PASSED_THROUGH
        if name in source and not is_forbidden(name)
    }
