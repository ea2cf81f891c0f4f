"""Host processes of the "run for real" tests: each runs in its own process group, and stopping
it ends the whole group (daemons such as Postfix's master and Dovecot's helpers are children of
what the test starts), so nothing outlives the test."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    out = open(log, "ab")
    try:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    finally:
        out.close()  # the child has its own copy


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after `grace` seconds."""
    pgid = proc.pid  # start_new_session: the child leads its own group
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        if not _group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.time() + wait
        while time.time() < deadline:
            proc.poll()
            if not _group_alive(pgid):
                break
            time.sleep(0.2)
    proc.poll()
    assert not _group_alive(pgid), f"process group {pgid} ({proc.args[0]}) survived SIGKILL"


def tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""
