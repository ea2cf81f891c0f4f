"""scripts/peers stops with the reason when an install fails, and never says "ready" then.

Runs the real script with a fake apt-get (and a fake `id` saying root) on PATH and
ITSTACK_PEERS_SYSROOT pointing at an empty temp dir, so every Debian package counts as missing and
nothing of the real system is read or written."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _exe(path: Path, text: str):
    path.write_text(text)
    path.chmod(0o755)


def _run(tmp_path, apt_body):
    fake = tmp_path / "bin"
    fake.mkdir()
    _exe(fake / "id", "#!/bin/sh\necho 0\n")
    _exe(fake / "debconf-set-selections", "#!/bin/sh\ncat >/dev/null\n")
    _exe(fake / "apt-get", f"#!/bin/sh\necho \"apt-get $*\" >> \"{tmp_path}/calls.log\"\n{apt_body}\n")
    sysroot = tmp_path / "sysroot"
    sysroot.mkdir()
    env = {"PATH": f"{fake}:/usr/local/go/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "ITSTACK_CACHE": str(tmp_path / "cache"), "ITSTACK_PEERS_SYSROOT": str(sysroot)}
    out = subprocess.run([str(ROOT / "scripts" / "peers")], env=env, capture_output=True, text=True, timeout=120)
    return out, sysroot, (tmp_path / "calls.log").read_text() if (tmp_path / "calls.log").exists() else ""


def test_a_failed_apt_get_stops_with_its_words_and_no_ready(tmp_path):
    out, sysroot, calls = _run(tmp_path, 'case "$*" in *install*) echo "E: Unable to locate package prosody" >&2; exit 100;; esac')
    assert out.returncode != 0
    assert "could not install" in out.stderr and "E: Unable to locate package prosody" in out.stderr
    assert "ready" not in out.stdout + out.stderr
    assert "update" in calls and "install -y -qq --no-install-recommends postfix" in calls
    # The policy-rc.d it put in place for the install is gone again.
    assert not (sysroot / "usr" / "sbin" / "policy-rc.d").exists()


def test_an_install_that_leaves_a_package_missing_stops(tmp_path):
    out, _, _ = _run(tmp_path, "exit 0")
    assert out.returncode != 0
    assert "apt-get installed postfix but /usr/sbin/postfix is missing" in out.stderr
    assert "ready" not in out.stdout + out.stderr


def test_services_started_by_a_package_are_stopped(tmp_path):
    """A pid file of a live process that is not a peer's: scripts/peers names it and stops it
    through its init script (under the sysroot: none here, so it cannot) and stops with the reason."""
    sysroot = tmp_path / "sysroot"
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        out, _, _ = _run_with_pidfile(tmp_path, sysroot, sleeper.pid)
        assert out.returncode != 0
        assert f"stopping nginx (pid {sleeper.pid}" in out.stderr and f"cannot stop nginx (pid {sleeper.pid})" in out.stderr
        assert "ready" not in out.stdout + out.stderr
    finally:
        sleeper.kill()
        sleeper.wait()


def _run_with_pidfile(tmp_path, sysroot, pid):
    # Every package "installed" (its proof file exists under the sysroot), nginx's pid file live.
    import re
    text = (ROOT / "scripts" / "peers").read_text()
    for path in re.findall(r'^  "[^|"]+\|(/[^"]+)"$', text, flags=re.M):
        f = sysroot / path.lstrip("/")
        f.parent.mkdir(parents=True, exist_ok=True)
        if not f.exists():
            f.write_text(str(pid) if path == "/run/nginx.pid" else "")
    fake = tmp_path / "bin"
    fake.mkdir()
    env = {"PATH": f"{fake}:/usr/local/go/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "ITSTACK_CACHE": str(tmp_path / "cache"), "ITSTACK_PEERS_SYSROOT": str(sysroot)}
    return subprocess.run([str(ROOT / "scripts" / "peers")], env=env, capture_output=True, text=True, timeout=120), None, None
