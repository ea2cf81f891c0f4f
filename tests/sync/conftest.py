import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from itstack_sync.store import Store

HERE = Path(__file__).resolve().parent


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(str(tmp_path / "state.db"))
    s.path = str(tmp_path / "state.db")
    yield s
    s.close()


class Child:
    """The flow in a process of its own, killed with SIGKILL when the test says; never outlives it."""

    def __init__(self):
        self.proc = None

    def start(self, spec_json: str, state: str):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "run_flow.py"), spec_json, state],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self.proc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def child():
    c = Child()
    yield c
    if c.proc:
        c.kill()
        c.proc.wait(timeout=10)
