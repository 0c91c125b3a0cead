"""How a run names the suite's own files: by their place in the package, never site-packages.

Installed (by tox, pip or a CI image), the check modules live deep inside
``site-packages``, and pytest names each one relative to the directory the run
started in. Every progress line of a CI log then began with
``.tox/conformance/lib/python3.11/site-packages/conformance/checks/``, the
longest and least useful thing on the line. When the run's rootdir is the
shipped checks package (``convox-conformance run`` makes it so, with ``-c``
pointing at the checks' own ``pytest.ini``), these hooks name check modules
as node ids already do (``test_login.py``), and the header names the
package's files from the package down (``conformance/profiles/reference.toml``).

A run of other tests (the project's own ``tests/``) is left alone.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import conformance

#: The installed (or checked-out) ``conformance`` package and its checks.
PACKAGE_DIR = Path(conformance.__file__).resolve().parent
# Found by place, not imported: the harness sits below the checks it names.
CHECKS_DIR = PACKAGE_DIR / "checks"


def is_checks_run(config: pytest.Config) -> bool:
    """Whether this run's rootdir is the shipped checks package."""
    return config.rootpath.resolve() == CHECKS_DIR


def package_relative(text: str) -> str:
    """``text`` with every absolute path into the package written from the package down."""
    return text.replace(str(PACKAGE_DIR), PACKAGE_DIR.name)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not is_checks_run(config):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # Progress lines and skip summaries name files relative to startpath.
        reporter.startpath = config.rootpath
    # -v lines and the short summary ("FAILED test_login.py::...") ask the config.
    config.cwd_relative_nodeid = lambda nodeid: nodeid  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_report_header(config: pytest.Config) -> Generator[None, Any, Any]:
    """pytest's ``rootdir:`` line and the profile line, without the install location."""
    results = yield
    if not is_checks_run(config):
        return results
    shortened: list[Any] = []
    for result in results:
        if isinstance(result, str):
            shortened.append(package_relative(result))
        elif isinstance(result, list):
            shortened.append([package_relative(line) if isinstance(line, str) else line
                              for line in result])
        else:
            shortened.append(result)
    return shortened
