"""``results.json``: the machine-readable run, described by results.schema.json."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.report.model.results import RunResult

SCHEMA_FILE = "results.schema.json"


def render(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema of results.json (shipped next to this module)."""
    text = (resources.files("conformance.report") / SCHEMA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def read(path: Path) -> RunResult:
    return RunResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
