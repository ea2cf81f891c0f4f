"""scripts/lib/leftovers.py, the last check of scripts/test: nothing the tests started may outlive
them (images/selftest's watchdog once held the caller's output open for 15 minutes)."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "lib" / "leftovers.py"


def _in_own_session(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["setsid", "--wait", "bash", "-c", script], capture_output=True, text=True, timeout=30)


def test_a_process_left_in_the_session_fails_the_check_and_is_ended():
    proc = _in_own_session(f"sleep 321 & python3 {CHECK}; echo rc=$?; sleep 0.2; kill -0 $! 2>/dev/null && echo alive")
    assert "rc=1" in proc.stdout and "alive" not in proc.stdout
    assert "left behind" in proc.stderr and "sleep 321" in proc.stderr


def test_a_clean_session_passes():
    proc = _in_own_session(f"sleep 0.1; python3 {CHECK}; echo rc=$?")
    assert "rc=0" in proc.stdout and proc.stderr == ""


def test_the_selftest_watchdog_takes_its_sleep_with_it():
    """The watchdog pattern images/selftest uses, killed as its cleanup kills it: no sleep remains."""
    text = (ROOT / "images" / "selftest").read_text()
    start = text.index("( trap 'kill \"$sleeper\"")
    watchdog = text[start:text.index("&\nWATCHDOG=$!", start) + 1]
    script = f'ITSTACK_SELFTEST_TIMEOUT=600; {watchdog}\nWATCHDOG=$!; sleep 0.3; kill $WATCHDOG; sleep 0.3; python3 {CHECK}; echo rc=$?'
    proc = _in_own_session(script)
    assert "rc=0" in proc.stdout, proc.stderr
