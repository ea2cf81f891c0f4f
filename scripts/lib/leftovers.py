"""Lists the processes still alive in the caller's session, other than the caller and this check:
what a test command left behind. `scripts/test` runs in a session of its own (it re-executes itself
under setsid), so everything in that session was started by the tests. Exit 1 if any, after
ending them (so CI is not held open by them); they are printed first, with their command lines."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, session id) of a live process; None if it is gone or a zombie (exited, holding
    nothing open, only not yet reaped by its parent)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[3])


def main() -> int:
    caller = os.getppid()
    session = os.getsid(0)
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), caller):
            continue
        st = _stat(int(entry.name))
        if st and st[1] == session:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            left.append((int(entry.name), cmd))
    for pid, cmd in left:
        print(f"left behind: pid {pid}: {cmd or '?'}", file=sys.stderr)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
