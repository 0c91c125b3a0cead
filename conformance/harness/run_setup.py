"""What the harness settles once per pytest process, before any check runs.

The profile of the CLI under test (checked runnable), the network the run is on,
and the fakes backend (made, not started): a mistake in any of them is a usage
error before the first check. They are kept on pytest's config for the hooks
and fixtures; the profile under the reports' key, since the reports describe it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance.network.sandbox import Network, from_environment
from conformance.report.pytest_wiring.stash_keys import PROFILE_KEY
from conformance.run_options import OptionError, chosen_backend, chosen_profile

if TYPE_CHECKING:
    from fakes.backends.in_process import Backend

NETWORK_KEY = pytest.StashKey[Network]()
BACKEND_KEY = pytest.StashKey["Backend"]()
#: Set on a check's item when its call raised: only such a check's trail is exported.
RAISED_KEY = pytest.StashKey[bool]()


def settle(config: pytest.Config) -> None:
    """Load and check the profile, read the network, make the backend; keep them on
    ``config``. Each mistake is a one-line usage error."""
    try:
        profile = chosen_profile(config.getoption("profile"), config.getoption("cli"))
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    network = from_environment()
    config.stash[NETWORK_KEY] = network
    config.stash[PROFILE_KEY] = profile.in_sandbox() if network.sandboxed else profile
    # Made (not started) now, so a bad --backend or --serve stops the run before any check.
    config.stash[BACKEND_KEY] = make_backend(config)


def network_of(config: pytest.Config) -> Network:
    """The run's network (plain pytest, which never made a sandbox, when unknown)."""
    return config.stash.get(NETWORK_KEY, None) or from_environment()


def make_backend(config: pytest.Config) -> Backend:
    """The backend --backend names (not started); a bad name or --serve is a usage error."""
    name = config.getoption("backend")
    try:
        made = chosen_backend(name, config.getoption("serve"))
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if network_of(config).sandboxed:
        from fakes.backends.in_process import InProcessBackend
        from fakes.sandbox.addresses import SandboxedBackend

        if not isinstance(made, InProcessBackend):
            raise pytest.UsageError(f"the network sandbox cannot serve --backend {name}")
        return SandboxedBackend(made)
    return made
