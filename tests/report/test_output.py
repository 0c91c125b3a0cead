"""reports/<run-id>/ and reports/latest (a symlink, or a file where symlinks fail)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from conformance.report import output


def test_run_ids_sort_by_time_and_name_the_profile():
    early = output.new_run_id("my cli/v2", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    late = output.new_run_id("a", datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC))
    assert early.startswith("20250102T030405Z-my-cli-v2-")
    assert early < late


def test_latest_is_a_relative_symlink(tmp_path):
    first = output.make_run_dir(tmp_path, "run-1")
    output.point_latest(tmp_path, first)
    second = output.make_run_dir(tmp_path, "run-2")
    latest = output.point_latest(tmp_path, second)
    assert latest.is_symlink() and os.readlink(latest) == "run-2"
    assert output.resolve_run_dir(latest) == second.resolve()


def test_latest_falls_back_to_a_file_where_symlinks_fail(tmp_path, monkeypatch):
    run_dir = output.make_run_dir(tmp_path, "run-1")

    def no_symlinks(*args: object, **kwargs: object) -> None:
        raise OSError("symlinks are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    latest = output.point_latest(tmp_path, run_dir)
    assert latest.is_file() and latest.read_text() == "run-1\n"
    assert output.resolve_run_dir(latest) == run_dir


def test_a_real_latest_directory_is_not_replaced(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(FileExistsError):
        output.point_latest(tmp_path, output.make_run_dir(tmp_path, "run-1"))


def test_resolve_reports_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        output.resolve_run_dir(tmp_path / "nothing")
    (tmp_path / "latest").write_text("gone\n")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        output.resolve_run_dir(tmp_path / "latest")


def test_two_runs_keep_both_directories(run_checks, pytester):
    from tests.report.conftest import PASSING_MODULE

    first = run_checks({"test_ok": PASSING_MODULE})
    first_dir = first.run_dir
    second = run_checks({})
    runs = sorted(p.name for p in (pytester.path / "reports").iterdir())
    assert len(runs) == 3 and "latest" in runs
    assert second.run_dir != first_dir and first_dir.exists()


def test_prune_keeps_the_newest_runs_and_never_the_current_one(tmp_path):
    names = [f"2025010{i}T000000Z-ref-abc{i}" for i in range(1, 6)]
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "latest").symlink_to(names[0])
    removed = output.prune(tmp_path, 2, tmp_path / names[0])
    assert sorted(p.name for p in removed) == names[1:3]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([names[0], names[3], names[4], "mine", "latest"])
    assert output.prune(tmp_path, 0, tmp_path / names[4]) == []


def test_keep_runs_option(run_checks, pytester):
    from tests.report.conftest import PASSING_MODULE

    for _ in range(3):
        run = run_checks({"test_ok": PASSING_MODULE}, "--keep-runs", "2")
    runs = [p for p in (pytester.path / "reports").iterdir() if p.name != "latest"]
    assert len(runs) == 2 and run.run_dir in runs
