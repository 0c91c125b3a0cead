"""A profile's TOML -> :class:`Profile`, naming the field of every mistake.

Validation is strict on purpose: a typo in a profile would otherwise turn
into dozens of confusing check failures, so every problem is reported as one
line naming the file and, for each mistake, the field and what is wrong.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from conformance.running.profiles.model import (
    CURRENT_API,
    ENV_NAME,
    HOST_FORM_PLACEHOLDERS,
    LAYOUT_PLACEHOLDERS,
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

T = TypeVar("T")


def parse_profile(raw: dict[str, Any], source: str) -> Profile:
    """``raw`` (read from ``source``) as a Profile; one ProfileError names every mistake."""
    return _Parser(source).profile(raw)


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
