"""CLI profiles: how to drive one Convox-compatible CLI (import from the package).

A profile is data (TOML) so that a CLI author can plug in their own binary
without writing Python. Only :mod:`~conformance.running.profiles.parser` knows
the file format; everything else sees a validated, immutable :class:`Profile`.

* ``model.py``: Profile and its parts, and the vocabulary (operations, capabilities);
* ``parser.py``: TOML -> Profile, every mistake named by its field;
* ``loading.py``: shipped profiles by name, a user's by path.
"""

from conformance.running.profiles.loading import PROFILE_DIR, load_profile, shipped_profiles
from conformance.running.profiles.model import (
    CAPABILITIES,
    CURRENT_API,
    ENV_NAME,
    EXTRA_CAPABILITIES,
    HOST_FORM_PLACEHOLDERS,
    LAYOUT_PLACEHOLDERS,
    MACHINE_CAPABILITIES,
    OPERATION_PLACEHOLDERS,
    RACK_APIS,
    REQUIRED_OPERATIONS,
    SELECTION_FORMATS,
    Environment,
    Layout,
    Operation,
    Profile,
    ProfileError,
    Trust,
)
from conformance.running.profiles.parser import parse_profile

__all__ = [
    "CAPABILITIES",
    "CURRENT_API",
    "ENV_NAME",
    "EXTRA_CAPABILITIES",
    "HOST_FORM_PLACEHOLDERS",
    "LAYOUT_PLACEHOLDERS",
    "MACHINE_CAPABILITIES",
    "OPERATION_PLACEHOLDERS",
    "PROFILE_DIR",
    "RACK_APIS",
    "REQUIRED_OPERATIONS",
    "SELECTION_FORMATS",
    "Environment",
    "Layout",
    "Operation",
    "Profile",
    "ProfileError",
    "Trust",
    "load_profile",
    "parse_profile",
    "shipped_profiles",
]
