"""The wizard on a real terminal (a pseudo-terminal): it asks, re-asks a rejected answer, and
Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import select
import signal
import sys
import time

import pytest

from lifecycle.config.yaml_io import load_config
from lifecycle.manifest import Manifest

pty = pytest.importorskip("pty")


def spawn(args, cwd):
    pid, fd = pty.fork()
    if pid == 0:  # child: the real CLI on a terminal
        os.chdir(cwd)
        # A shell runs background jobs with SIGINT ignored, and an ignored signal survives exec:
        # restore the default so that Python turns SIGINT into KeyboardInterrupt, as on a desktop.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(sys.executable, [sys.executable, "-m", "lifecycle", "new", *args])
    return pid, fd


def read_until(fd, marker: bytes, timeout: float = 60) -> bytes:
    buf, end = b"", time.monotonic() + timeout
    while marker not in buf:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            raise AssertionError(f"timed out waiting for {marker!r}; got {buf[-500:]!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # child closed the terminal
            break
        if not chunk:
            break
        buf += chunk
    return buf


def wait_exit(pid, fd, timeout: float) -> tuple[int | None, bytes]:
    """(exit code, output) once the child exits; (None, output so far) after `timeout`."""
    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                pass
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            os.close(fd)
            return os.waitstatus_to_exitcode(status), out
    return None, out


def finish(pid, fd, timeout: float = 60) -> tuple[int, bytes]:
    code, out = wait_exit(pid, fd, timeout)
    if code is None:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"wizard did not finish: {out[-800:]!r}")
    return code, out


def test_ctrl_c_in_the_wizard_leaves_nothing(tmp_path):
    pid, fd = spawn([], tmp_path)
    read_until(fd, b"Project name")
    time.sleep(0.5)  # let the child block in its read, as when a person hesitates
    code = None
    for _ in range(3):  # a SIGINT landing just before readline waits can be lost: press again
        os.write(fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the wizard
        code, out = wait_exit(pid, fd, 10)
        if code is not None:
            break
    if code is None:
        os.kill(pid, signal.SIGKILL)
    assert code == 130, out
    assert list(tmp_path.iterdir()) == []


def test_wizard_asks_and_reasks_a_rejected_answer(tmp_path):
    pid, fd = spawn(["wiz"], tmp_path)
    read_until(fd, b"Project name")
    # name [wiz], use case 'ab' (too short: asked again at the end), task, multi-task, sensitivity,
    # commercial, device cpu (so no GPU questions), metric [rougeL], target 'abc' (not a number:
    # asked again at once), adaptation, model, then the use case again.
    answers = ["", "ab", "summarization", "n", "", "", "cpu", "", "abc", "0.35", "", "",
               "Summarise support calls for agents"]
    os.write(fd, ("\n".join(answers) + "\n").encode())
    code, out = finish(pid, fd)
    assert code == 0, out.decode(errors="replace")
    assert b"'abc' is not a valid float" in out
    assert b"use_case: String should have at least 3 characters" in out and b"--use-case" not in out
    m = load_config(tmp_path / "wiz" / "lifecycle.yaml", Manifest)
    assert m.project.name == "wiz" and m.scope.use_case == "Summarise support calls for agents"
    assert m.scope.hardware.device.value == "cpu" and m.scope.success.target == 0.35
