"""CLI profiles: how to drive one Convox-compatible CLI.

A profile is data (TOML) so that a CLI author can plug in their own binary
without writing Python. This module is the only place that knows the file
format; everything else sees a validated, immutable :class:`Profile`.

Validation is strict on purpose: a typo in a profile would otherwise turn
into dozens of confusing check failures, so every problem is reported as one
line naming the file and, for each mistake, the field and what is wrong.
"""

from __future__ import annotations

import re
import shlex
import string
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from conformance import toml_file

T = TypeVar("T")

PROFILE_DIR = "profiles"

#: Operations every CLI must offer; without them no check can run.
REQUIRED_OPERATIONS = ("login", "switch", "current_rack", "racks", "apps", "rack_info")

#: Each operation and the placeholders its argv (and env) may use.
OPERATION_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "version": frozenset(),
    "login": frozenset({"host", "key"}),
    "login_env": frozenset({"host", "key"}),
    "login_prompt": frozenset({"host"}),
    "login_default": frozenset({"key"}),
    "switch": frozenset({"rack"}),
    "current_rack": frozenset(),
    "racks": frozenset(),
    "apps": frozenset(),
    "apps_rack": frozenset({"rack"}),
    "rack_info": frozenset(),
    "rack_set_password": frozenset({"password"}),
    "logout": frozenset(),
}

#: Capabilities that are not operations but properties of the profile.
EXTRA_CAPABILITIES = frozenset({"trust", "resolve", "env_credentials", "env_rack", "session"})
#: What the run gives, not the CLI: ``resolve`` (every host name the CLI looks up leads
#: to the fakes) only a network sandbox can promise of an untrusted CLI.
MACHINE_CAPABILITIES = frozenset({"resolve"})
CAPABILITIES = frozenset(OPERATION_PLACEHOLDERS) | EXTRA_CAPABILITIES

SELECTION_FORMATS = ("rack", "racks", "current")
#: The rack API generations the fakes serve (fakes.model.world.RACK_APIS; a test holds them equal,
#: so that loading a profile imports none of the fakes).
CURRENT_API = "current"
RACK_APIS = ("2017", CURRENT_API)
LAYOUT_PLACEHOLDERS = frozenset({"home", "config_dir", "xdg_config_home"})
HOST_FORM_PLACEHOLDERS = frozenset({"port"})
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProfileError(Exception):
    """A profile that cannot be used; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Operation:
    """One CLI operation: argv after the command, extra env, optional prompt."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    prompt: str | None = None


@dataclass(frozen=True)
class Layout:
    """Where the CLI keeps its files, relative to the isolated HOME."""

    config_dir: str
    target_file: str
    auth_file: str
    #: The selection file's name (in config_dir).
    selection: str
    env: Mapping[str, str] = field(default_factory=dict)
    #: Where the CLI keeps Console's second-factor sessions (JSON host -> id); None
    #: when it cannot meet Console's session challenge.
    session_file: str | None = None
    #: How the selection file is written (one of SELECTION_FORMATS); "" means the format
    #: its name gives (a file named rack, racks or current).
    selection_format: str = ""

    @property
    def selection_kind(self) -> str:
        """The selection file's format: rack (plain org/name), racks or current (JSON)."""
        return self.selection_format or self.selection


@dataclass(frozen=True)
class Trust:
    """How the suite can give the CLI its CA and its host-name map."""

    ca_env: str | None = None
    resolve_env: str | None = None


@dataclass(frozen=True)
class Environment:
    """The variables the CLI reads on every command instead of its files (CI, deploy keys).

    None means the CLI reads no such variable: the rules about it are then not
    applicable, never passed.
    """

    host: str | None = None
    key: str | None = None
    rack: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    source: str
    command: tuple[str, ...]
    host_form: str
    layout: Layout
    trust: Trust
    operations: Mapping[str, Operation]
    environment: Environment = field(default_factory=Environment)
    #: The rack API generation the CLI was built against, which the fake racks speak.
    rack_api: str = CURRENT_API
    #: Set for runs in the network sandbox, where every host name leads to the fakes.
    sandboxed: bool = False

    def has(self, capability: str) -> bool:
        """True when the profile can do what a rule ``needs``."""
        if capability == "trust":
            return self.trust.ca_env is not None
        if capability == "resolve":
            # Not the resolve seam: it routes only the names the CLI chooses to send through
            # it, so egress past it would go unseen, and leave the machine.
            return self.sandboxed
        if capability == "env_credentials":
            return self.environment.host is not None and self.environment.key is not None
        if capability == "env_rack":
            return self.environment.rack is not None
        if capability == "session":
            return self.layout.session_file is not None
        return capability in self.operations

    def in_sandbox(self) -> Profile:
        """The same profile in the network sandbox: every CLI can then `resolve`."""
        return replace(self, sandboxed=True)

    def missing(self, needs: tuple[str, ...] | list[str]) -> list[str]:
        return [need for need in needs if not self.has(need)]

    def command_argv(self) -> list[str]:
        """The command with ``{python}`` replaced by this interpreter."""
        return [part.replace("{python}", sys.executable) for part in self.command]

    def with_command(self, cli: str) -> Profile:
        """The same profile driving another binary (``--cli``).

        A path that exists is taken whole, so paths with spaces work; anything
        else is split like a shell would, so ``--cli "python -m mycli"`` works.
        """
        command = (cli,) if Path(cli).exists() else tuple(shlex.split(cli))
        if not command:
            raise ProfileError("--cli: empty command")
        return replace(self, command=command)


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
    try:
        raw = toml_file.read(path, "profile")
    except toml_file.TomlFileError as exc:
        raise ProfileError(str(exc)) from None
    return _Parser(str(path)).profile(raw)


class _Problem(Exception):
    """One mistake at one field; the parser collects them all before it reports."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


class _Parser:
    """Turns raw TOML into a Profile, naming the field of every problem.

    Every mistake is reported, not just the first: a profile being written
    for a new CLI usually has several, and fixing them one run at a time
    wastes the author's afternoon.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> _Problem:
        return _Problem(where, problem)

    def attempt(self, parse: Callable[[], T], default: T) -> T:
        """Parse one field; a problem is recorded and ``default`` stands in."""
        try:
            return parse()
        except _Problem as exc:
            self.problems.append(str(exc))
            return default

    def need(self, raw: dict, key: str, where: str) -> Any:
        if key not in raw:
            raise self.fail(where, "required field is missing")
        return raw[key]

    def table(self, raw: Any, where: str, allowed: set[str], required: set[str]) -> dict:
        """A table whose unknown and missing fields are each recorded (not fatal)."""
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a table, got {type(raw).__name__}")
        for key in raw:
            if key not in allowed:
                self.problems.append(str(self.fail(
                    f"{where}.{key}" if where else key,
                    f"unknown field (allowed: {', '.join(sorted(allowed))})",
                )))
        for key in sorted(required):
            if key not in raw:
                self.problems.append(str(self.fail(f"{where}.{key}" if where else key,
                                                   "required field is missing")))
        return raw

    def text(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str) or not raw:
            raise self.fail(where, "must be a non-empty string")
        return raw

    def strings(self, raw: Any, where: str, *, allow_empty: bool = True) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(part, str) for part in raw):
            raise self.fail(where, "must be a list of strings")
        if not raw and not allow_empty:
            raise self.fail(where, "must not be empty")
        return tuple(raw)

    def env(self, raw: Any, where: str, placeholders: frozenset[str]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table of NAME = value")
        env = {}
        for name, value in raw.items():
            if not isinstance(value, str):
                raise self.fail(f"{where}.{name}", "must be a string")
            self.placeholders(value, f"{where}.{name}", placeholders)
            env[name] = value
        return env

    def placeholders(self, template: str, where: str, allowed: frozenset[str]) -> None:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        except ValueError as exc:
            raise self.fail(where, f"bad template {template!r}: {exc}") from None
        for name in fields:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise self.fail(where, f"unknown placeholder {{{name}}} (allowed here: {known})")

    def profile(self, raw: dict) -> Profile:
        top = self.table(
            raw,
            "",
            {"name", "description", "command", "host_form", "rack_api", "layout", "trust",
             "environment", "operations"},
            {"name", "command", "host_form", "layout", "operations"},
        )
        name = self.attempt(lambda: self.text(top["name"], "name") if "name" in top else "", "")
        no_command: tuple[str, ...] = ()
        command = self.attempt(
            lambda: self.strings(top["command"], "command", allow_empty=False)
            if "command" in top else no_command, no_command)
        host_form = self.attempt(lambda: self.host_form(top), "")
        rack_api = self.attempt(lambda: self.rack_api(top), CURRENT_API)
        layout = self.attempt(lambda: self.layout(top["layout"]) if "layout" in top else None,
                              None)
        trust = self.attempt(lambda: self.trust(top.get("trust", {})), Trust())
        environment = self.attempt(lambda: self.environment(top.get("environment", {})),
                                   Environment())
        no_operations: dict[str, Operation] = {}
        operations = self.attempt(
            lambda: self.operations(top["operations"]) if "operations" in top else no_operations,
            no_operations)
        if self.problems or layout is None:
            raise ProfileError(f"profile {self.source}: " + "; ".join(self.problems))
        return Profile(
            name=name,
            description=str(top.get("description", "")),
            source=self.source,
            command=command,
            host_form=host_form,
            rack_api=rack_api,
            layout=layout,
            trust=trust,
            operations=operations,
            environment=environment,
        )

    def host_form(self, top: dict) -> str:
        if "host_form" not in top:
            return ""  # reported by table() as missing
        host_form = self.text(top["host_form"], "host_form")
        self.placeholders(host_form, "host_form", HOST_FORM_PLACEHOLDERS)
        if "{port}" not in host_form:
            raise self.fail("host_form", "must contain {port}")
        return host_form

    def rack_api(self, top: dict) -> str:
        if "rack_api" not in top:
            return CURRENT_API
        value = self.text(top["rack_api"], "rack_api")
        if value not in RACK_APIS:
            raise self.fail("rack_api", f"must be one of {', '.join(RACK_APIS)}, got {value!r}")
        return value

    def layout(self, raw: Any) -> Layout | None:
        table = self.table(
            raw,
            "layout",
            {"config_dir", "target_file", "auth_file", "selection", "selection_format", "env",
             "session_file"},
            {"config_dir", "target_file", "auth_file", "selection"},
        )

        def config_dir() -> str:
            value = self.text(self.need(table, "config_dir", "layout.config_dir"),
                              "layout.config_dir")
            if Path(value).is_absolute() or ".." in Path(value).parts:
                raise self.fail("layout.config_dir", "must be a path inside the isolated home")
            return value

        def selection() -> str:
            value = self.text(self.need(table, "selection", "layout.selection"),
                              "layout.selection")
            if "selection_format" not in table and value not in SELECTION_FORMATS:
                raise self.fail(
                    "layout.selection",
                    f"a file named {value!r} needs layout.selection_format (one of "
                    f"{', '.join(SELECTION_FORMATS)}) to say how it is written; only files "
                    f"named {', '.join(SELECTION_FORMATS)} go without",
                )
            if "/" in value or value in (".", ".."):
                raise self.fail("layout.selection", f"must be a file name, got {value!r}")
            return value

        def selection_format() -> str:
            value = self.text(table["selection_format"], "layout.selection_format")
            if value not in SELECTION_FORMATS:
                raise self.fail("layout.selection_format",
                                f"must be one of {', '.join(SELECTION_FORMATS)}, got {value!r}")
            return value

        def plain(key: str) -> str:
            return self.text(self.need(table, key, f"layout.{key}"), f"layout.{key}")

        missing = [key for key in ("config_dir", "target_file", "auth_file", "selection")
                   if key not in table]
        found = Layout(
            config_dir=self.attempt(config_dir, "") if "config_dir" in table else "",
            target_file=self.attempt(lambda: plain("target_file"), "")
            if "target_file" in table else "",
            auth_file=self.attempt(lambda: plain("auth_file"), "") if "auth_file" in table
            else "",
            selection=self.attempt(selection, "") if "selection" in table else "",
            env=self.attempt(
                lambda: self.env(table.get("env", {}), "layout.env", LAYOUT_PLACEHOLDERS), {}),
            session_file=self.attempt(lambda: plain("session_file"), None)
            if "session_file" in table else None,
            selection_format=self.attempt(selection_format, "")
            if "selection_format" in table else "",
        )
        return None if missing else found

    def trust(self, raw: Any) -> Trust:
        table = self.table(raw, "trust", {"ca_env", "resolve_env"}, set())
        return Trust(
            ca_env=self.text(table["ca_env"], "trust.ca_env") if "ca_env" in table else None,
            resolve_env=(
                self.text(table["resolve_env"], "trust.resolve_env")
                if "resolve_env" in table
                else None
            ),
        )

    def environment(self, raw: Any) -> Environment:
        table = self.table(raw, "environment", {"host", "key", "rack"}, set())

        def name(field_name: str) -> str | None:
            if field_name not in table:
                return None
            where = f"environment.{field_name}"
            value = self.text(table[field_name], where)
            if not ENV_NAME.match(value):
                raise self.fail(where, f"must be an environment variable name, got {value!r}")
            return value

        return Environment(host=self.attempt(lambda: name("host"), None),
                           key=self.attempt(lambda: name("key"), None),
                           rack=self.attempt(lambda: name("rack"), None))

    def operations(self, raw: Any) -> dict[str, Operation]:
        table = self.table(raw, "operations", set(OPERATION_PLACEHOLDERS),
                           set(REQUIRED_OPERATIONS))
        found: dict[str, Operation] = {}
        for name, value in table.items():
            if name not in OPERATION_PLACEHOLDERS:
                continue  # reported by table()
            try:
                found[name] = self.operation(name, value)
            except _Problem as exc:
                self.problems.append(str(exc))
        return found

    def operation(self, name: str, raw: Any) -> Operation:
        where = f"operations.{name}"
        allowed = OPERATION_PLACEHOLDERS[name]
        if isinstance(raw, list):
            argv, env, prompt = self.strings(raw, where), {}, None
        else:
            table = self.table(raw, where, {"argv", "env", "prompt"}, set())
            argv = self.strings(self.need(table, "argv", f"{where}.argv"), f"{where}.argv")
            env = self.env(table.get("env", {}), f"{where}.env", allowed)
            prompt = self.text(table["prompt"], f"{where}.prompt") if "prompt" in table else None
        for index, part in enumerate(argv):
            self.placeholders(part, f"{where}[{index}]", allowed)
        used = {
            field_name
            for template in (*argv, *env.values())
            for _, field_name, _, _ in string.Formatter().parse(template)
            if field_name
        }
        missing = allowed - used
        if missing:
            names = ", ".join(f"{{{m}}}" for m in sorted(missing))
            raise self.fail(where, f"never uses {names}, so the suite cannot pass it")
        if name == "login_prompt" and prompt is None:
            raise self.fail(where, "needs prompt = the text the CLI shows before reading the key")
        return Operation(name=name, argv=argv, env=env, prompt=prompt)
