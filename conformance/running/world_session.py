"""A CLI session wired to one world: the CA it trusts, how it resolves, the keys to watch for.

Used by the checks' fixtures and by ``replay``, which both sit above it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.running.capture import DEFAULT_MAX_OUTPUT
from conformance.running.invoke import CliSession
from conformance.running.profiles import Profile

if TYPE_CHECKING:
    from fakes.backends.in_process import Backend, WorldHandle

#: Where the run's CA goes in the sandbox when the profile names no variable of its own.
SANDBOX_CA_ENV = "SSL_CERT_FILE"


def make_session(
    profile: Profile, backend: Backend, world: WorldHandle, root: Path, timeout: float,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> CliSession:
    """A CLI session isolated in ``root``, wired to trust and resolve the world.

    In the network sandbox the CLI resolves names itself, as it would for a
    user (the world's launcher gives it the world's DNS), so no resolve seam
    is used, and the run's CA goes to SSL_CERT_FILE, the standard place Go,
    OpenSSL and Python read, when the profile names no other. On the host
    network a profile's resolve seam still gets the world's map: it keeps the
    names the CLI sends through it on the machine, though it decides no rule.
    """
    extra: dict[str, str] = {}
    launcher = getattr(world, "launcher", None)
    if launcher is not None:
        extra[profile.trust.ca_env or SANDBOX_CA_ENV] = str(backend.ca_bundle())
        return CliSession(profile, root, extra_env=extra, timeout=timeout, launcher=launcher,
                          max_output=max_output, watch=_world_secrets(world))
    if profile.trust.ca_env:
        extra[profile.trust.ca_env] = str(backend.ca_bundle())
    if profile.trust.resolve_env:
        extra[profile.trust.resolve_env] = world.resolve_map()
    return CliSession(profile, root, extra_env=extra, timeout=timeout, max_output=max_output,
                      watch=_world_secrets(world))


def _world_secrets(world: WorldHandle) -> Any:
    def secrets() -> list[str]:
        try:
            return list(world.secrets())
        except Exception:  # a closed world: its keys were looked for while it lived
            return []

    return secrets
