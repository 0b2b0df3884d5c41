"""Advisory file locks and appends that cannot interleave, for files several processes share.

Locks are `fcntl.flock` on a sidecar `.<name>.lock` file: the kernel drops them when the holder
exits for any reason (SIGKILL included), so a lock never outlives its process and a held lock is
proof of a live writer. That is what lets readers tell a run that is still being written from one
whose process died.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from lifecycle.errors import LockedError

def lock_path(path: str | Path) -> Path:
    """`dir/.lock` for a folder, `.name.lock` beside a file (hidden; `.*.lock` in .gitignore)."""
    p = Path(path)
    return p / ".lock" if p.is_dir() else p.with_name(f".{p.name}.lock")


class FileLock:
    """An exclusive lock held until `release()` (or process exit). Non-reentrant."""

    def __init__(self, path: str | Path) -> None:
        self.path = lock_path(path)
        self._fd: int | None = None

    def acquire(self, *, timeout: float | None = None, what: str = "") -> "FileLock":
        """Wait up to `timeout` seconds (None: forever, 0: do not wait); LockedError after that."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    holder = _holder(fd)
                    os.close(fd)
                    raise LockedError(f"{what or self.path.parent} is being written by another process{holder}",
                                      hint="wait for it to finish, or stop it first") from None
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __del__(self) -> None:  # a lock whose owner object is gone must not outlive it in this process
        try:
            self.release()
        except Exception:  # at interpreter exit the modules may be gone; the kernel drops the lock anyway
            pass

    def __enter__(self) -> "FileLock":
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextmanager
def locked(path: str | Path, *, timeout: float | None = 30.0, what: str = "") -> Iterator[None]:
    """Hold the lock of `path` for the block: for read-modify-write of a shared file."""
    lock = FileLock(path).acquire(timeout=timeout, what=what or str(path))
    try:
        yield
    finally:
        lock.release()


def is_locked(path: str | Path) -> bool:
    """Whether a live process holds the lock of `path` right now (the lock file is not created)."""
    p = lock_path(path)
    try:
        fd = os.open(p, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we just took
    return False


def append_line(path: str | Path, line: str) -> None:
    """Append one line with a single O_APPEND write under the file's lock: concurrent appenders
    never interleave or lose a record, and a crash leaves at most one torn last line."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    with locked(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
