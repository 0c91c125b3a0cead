"""reports/<run-id>/ and reports/latest (a symlink, or a file where symlinks fail)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from conformance.report.writers import run_dirs as output


def test_run_ids_sort_by_time_and_name_the_profile():
    early = output.new_run_id("my cli/v2", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    late = output.new_run_id("a", datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC))
    assert early.startswith("20250102T030405.000000Z-my-cli-v2-")
    assert early < late


def test_prune_orders_runs_of_one_second_by_when_they_were_made(tmp_path):
    """Three runs in one second: the random suffix must not decide which is newest."""
    second = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    names = [output.new_run_id("ref", second.replace(microsecond=us)) for us in (10, 20, 30)]
    # Suffixes that sort opposite to the order the runs were made in.
    names = [name[:-4] + suffix for name, suffix in zip(names, ("ffff", "8888", "0000"),
                                                        strict=True)]
    for name in names:
        (tmp_path / name).mkdir()
    removed = output.prune(tmp_path, 2, tmp_path / names[2])
    assert [p.name for p in removed] == [names[0]]
    # Ids of older suites (whole seconds): the time each directory was written decides.
    old = ["20250101T000000Z-ref-ffff", "20250101T000000Z-ref-0000"]
    for index, name in enumerate(old):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, ns=(10**18 + index, 10**18 + index))
    removed = output.prune(tmp_path, 3, tmp_path / names[2])
    assert [p.name for p in removed] == [old[0]]


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
    names = [f"2025010{i}T000000.000000Z-ref-abc{i}" for i in range(1, 6)]
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "latest").symlink_to(names[0])
    removed = output.prune(tmp_path, 2, tmp_path / names[0])
    assert sorted(p.name for p in removed) == names[1:3]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([names[0], names[3], names[4], "mine", "latest"])
    assert output.prune(tmp_path, 0, tmp_path / names[4]) == []


def test_keep_runs_option(run_checks, pytester, monkeypatch):
    from conformance.report.pytest_wiring import run_info
    from tests.report.conftest import PASSING_MODULE

    # Three runs within one second, whose random suffixes sort against the order
    # they were made in: the newest two must stay (this once failed on a clean clone).
    made = iter([("2025-01-02T03:04:05.000100", "ffff"), ("2025-01-02T03:04:05.000200", "8888"),
                 ("2025-01-02T03:04:05.000300", "0000")])

    def same_second(profile: str) -> str:
        when, suffix = next(made)
        return output.new_run_id(profile, datetime.fromisoformat(when))[:-4] + suffix

    monkeypatch.setattr(run_info, "new_run_id", same_second)
    runs_made = [run_checks({"test_ok": PASSING_MODULE}, "--keep-runs", "2").run_dir
                 for _ in range(3)]
    runs = sorted(p for p in (pytester.path / "reports").iterdir() if p.name != "latest")
    assert runs == sorted(runs_made[1:])
