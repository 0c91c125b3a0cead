"""The exclusive ``flock`` on ``<config dir>/.lock`` around read-modify-write cycles.

Without it two concurrent logins both read ``auth``, each adds its host and the
second rename drops the first login's key; every command that rewrites ``auth``
holds it.
"""

from __future__ import annotations

import os

from reference_cli import errors, files

LOCK_WAIT_SECONDS = 30.0  # mutation: no rule says how long a CLI waits for another's lock
LOCK_NAME = ".lock"


class FileLock:
    """Exclusive ``flock`` on ``<config dir>/.lock`` for read-modify-write cycles.

    Without it two concurrent logins both read ``auth``, each adds its host and
    the second rename drops the first login's key.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> FileLock:
        import fcntl
        import time

        files.ensure_config_dir()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise errors.CliError(
                f"cannot open lock file {self.path}: {errors.os_reason(exc)}"
            ) from None
        deadline = time.monotonic() + LOCK_WAIT_SECONDS  # mutation: no rule says how long to wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:  # mutation: no rule says how long to wait
                    os.close(fd)
                    raise errors.CliError(
                        f"timed out waiting for lock {self.path} held by another convox process"
                    ) from None
                time.sleep(0.005)  # mutation: equivalent (poll interval)
            except OSError as exc:
                os.close(fd)
                raise errors.CliError(f"cannot lock {self.path}: {errors.os_reason(exc)}") from None
        self.fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def locked() -> FileLock:
    """The exclusive config-dir lock (use as ``with locked(): ...``)."""
    return FileLock(files.config_path(LOCK_NAME))
