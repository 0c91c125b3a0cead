"""A pytest plugin for the benchmark: the process's resident memory after each check.

Loaded with ``-p benchmarks.memory_probe``; writes a JSON list of RSS bytes to
``$BENCH_MEMORY_FILE`` at the end, so a leak per check shows as growth from
the middle of the run to its end (the first half also pays for every first
use: imports, caches, the libraries' own tables).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE


class MemoryProbe:
    def __init__(self, output: Path) -> None:
        self.output = output
        self.samples: list[int] = []

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self) -> None:
        self.samples.append(_rss())

    def pytest_sessionfinish(self) -> None:
        self.output.write_text(json.dumps(self.samples))


def pytest_configure(config: pytest.Config) -> None:
    target = os.environ.get("BENCH_MEMORY_FILE")
    if target:
        config.pluginmanager.register(MemoryProbe(Path(target)), "bench-memory-probe")
