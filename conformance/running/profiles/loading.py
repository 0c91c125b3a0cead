"""Finding a profile (shipped by name, or a user's by path) and loading it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from conformance import toml_file
from conformance.running.profiles.model import Profile, ProfileError
from conformance.running.profiles.parser import parse_profile

PROFILE_DIR = "profiles"


def shipped_profiles() -> dict[str, Path]:
    """Name -> path of every profile that ships with the suite."""
    root = resources.files("conformance") / PROFILE_DIR
    found = {}
    for entry in root.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name[: -len(".toml")]] = Path(str(entry))
    return dict(sorted(found.items()))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name, or a user's profile by path."""
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith(".toml") or path.exists()):
        shipped = shipped_profiles()
        if text not in shipped:
            raise ProfileError(
                f"unknown profile {text!r}; shipped profiles: {', '.join(shipped)}"
                " (or give a path to a .toml file)"
            )
        path = shipped[text]
    return parse_profile(toml_file.read(path, "profile", ProfileError), str(path))


