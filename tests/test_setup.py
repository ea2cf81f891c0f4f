"""scripts/setup and scripts/test-deps: a failed install stops with its reason, never "ready".

Each test runs the real scripts from a scratch copy of the project, with a PATH that has no
lua5.4 and no real apt-get: a fake apt-get (and a fake `id` saying root, so the install path is
taken on any runner) records how it was called and fails or "installs" as the test says.
"""
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def sandbox(tmp_path):
    """(project copy, fake bin dir, env) with the system's tools minus lua*, shellcheck and apt*."""
    project = tmp_path / "project"
    (project / "scripts" / "lib").mkdir(parents=True)
    (project / "tests" / "browser").mkdir(parents=True)
    (project / "policy").mkdir()
    for rel in ("scripts/setup", "scripts/test-deps", "scripts/lib/need-deb.sh", "requirements.txt",
                "requirements-dev.txt", "tests/browser/package.json", "tests/browser/package-lock.json",
                "policy/requirements.txt"):
        shutil.copy2(ROOT / rel, project / rel)
    system = tmp_path / "system-bin"
    system.mkdir()
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name.startswith(("lua", "apt", "shellcheck", "chromium", "npm")) or (system / name).exists():
                continue
            (system / name).symlink_to(os.path.join(d, name))
    fake = tmp_path / "fake-bin"
    _exe(fake / "id", "#!/bin/sh\necho 0\n")
    # npm ci of tests/browser's lockfile: logged, and playwright-core "installed", in a cache of its own.
    _exe(fake / "npm", '#!/bin/sh\necho "npm $*" >> "$LOG"\n[ "${NPM_RC:-0}" = 0 ] || { echo "npm error code E403" >&2; '
                       'exit 1; }\nmkdir -p node_modules/playwright-core\n')
    env = {"PATH": f"{fake}:{system}", "HOME": str(tmp_path), "LOG": str(tmp_path / "calls.log"),
           "ITSTACK_CACHE": str(tmp_path / "cache")}
    return project, fake, env


def _fake_apt(fake: Path, works: bool) -> None:
    """apt-get that logs its arguments; `install -y -qq <pkg>` either fails like an unknown
    package or puts a command named <pkg> into the fake bin dir."""
    ok = f'printf "#!/bin/sh\\n" > "{fake}/$4"; chmod +x "{fake}/$4"'
    fail = 'echo "E: Unable to locate package $4" >&2; exit 100'
    _exe(fake / "apt-get", f"""#!/bin/sh
echo "apt-get $*" >> "$LOG"
case "$1" in update) exit 0 ;; esac
{ok if works else fail}
""")


def _fake_python(path: Path, pip_rc: int = 0, ensurepip: bool = True) -> Path:
    return _exe(path, f"""#!/bin/sh
case "$*" in
  *"-m pip"*) echo "pip $*" >> "$LOG"; [ {pip_rc} = 0 ] || echo "ERROR: No matching distribution found for pulumi" >&2; exit {pip_rc} ;;
  *ensurepip*) exit {0 if ensurepip else 1} ;;
  *"-m venv"*) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  *--version*|-V) echo "Python 3.11.2" ;;
  *) exit 0 ;;
esac
""")


def _run(project: Path, script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(project / "scripts" / script)], cwd=project, env=env, capture_output=True,
                          text=True, timeout=60)


def test_test_deps_stops_with_the_reason_when_apt_get_fails(sandbox):
    project, fake, env = sandbox
    _fake_python(project / ".venv" / "bin" / "python")
    _fake_apt(fake, False)
    out = _run(project, "test-deps", env)
    assert out.returncode != 0
    assert "ready" not in out.stdout
    assert "could not install lua5.4" in out.stderr and "Prosody module test" in out.stderr
    assert "E: Unable to locate package lua5.4" in out.stderr  # apt-get's own words are passed on
    calls = Path(env["LOG"]).read_text()
    assert "apt-get install -y -qq lua5.4" in calls


def test_test_deps_installs_lua_and_goes_on_when_apt_get_works(sandbox):
    project, fake, env = sandbox
    _fake_python(project / ".venv" / "bin" / "python")
    _fake_apt(fake, True)
    out = _run(project, "test-deps", env)
    assert out.returncode == 0, out.stderr
    assert "test deps ready" in out.stdout
    calls = Path(env["LOG"]).read_text()
    assert "apt-get install -y -qq lua5.4" in calls and "apt-get install -y -qq shellcheck" in calls
    assert "apt-get install -y -qq chromium" in calls and calls.count("npm ci --ignore-scripts") == 1
    assert calls.count("-r policy/requirements.txt") == 1 and (project / "policy" / ".venv" / "bin" / "python").exists()
    # requirements-dev.txt went into the venv, once: a second run installs nothing.
    assert Path(env["LOG"]).read_text().count("-r requirements-dev.txt") == 1
    assert _run(project, "test-deps", env).returncode == 0
    assert Path(env["LOG"]).read_text().count("-r requirements-dev.txt") == 1
    assert Path(env["LOG"]).read_text().count("npm ci") == 1  # the lockfile did not change
    assert Path(env["LOG"]).read_text().count("-r policy/requirements.txt") == 1


def test_test_deps_stops_when_npm_ci_fails(sandbox):
    project, fake, env = sandbox
    _fake_python(project / ".venv" / "bin" / "python")
    _fake_apt(fake, True)
    out = _run(project, "test-deps", {**env, "NPM_RC": "1"})
    assert out.returncode != 0 and "ready" not in out.stdout
    assert "npm ci of tests/browser/package-lock.json failed" in out.stderr and "E403" in out.stderr
    assert not (Path(env["ITSTACK_CACHE"]) / "browser" / ".lock.sha").exists()  # next run tries again


def test_test_deps_stops_when_pip_fails(sandbox):
    project, fake, env = sandbox
    _fake_python(project / ".venv" / "bin" / "python", pip_rc=1)
    _fake_apt(fake, True)
    out = _run(project, "test-deps", env)
    assert out.returncode != 0 and "ready" not in out.stdout
    assert "pip could not install requirements-dev.txt" in out.stderr
    assert not (project / ".venv" / ".requirements-dev.sha").exists()  # next run tries again


def test_setup_stops_when_the_venv_package_cannot_be_installed(sandbox):
    project, fake, env = sandbox
    py = _fake_python(fake / "python3", ensurepip=False)
    _fake_apt(fake, False)
    out = _run(project, "setup", {**env, "PYTHON": str(py)})
    assert out.returncode != 0 and "ready" not in out.stdout
    assert "could not install python3-venv" in out.stderr
    assert not (project / ".venv").exists()


def test_setup_stops_when_pip_fails_and_installs_only_runtime_requirements(sandbox):
    project, fake, env = sandbox
    py = _fake_python(fake / "python3", pip_rc=1)
    _fake_apt(fake, False)
    out = _run(project, "setup", {**env, "PYTHON": str(py)})
    assert out.returncode != 0 and "ready" not in out.stdout
    assert "No matching distribution" in out.stderr and "pip could not install requirements.txt" in out.stderr
    calls = Path(env["LOG"]).read_text()
    assert "-r requirements.txt" in calls and "requirements-dev" not in calls
    assert "apt-get" not in calls  # the program itself needs no Debian package beyond python3-venv


def test_setup_needs_no_lua(sandbox):
    project, fake, env = sandbox
    py = _fake_python(fake / "python3")
    _fake_apt(fake, False)  # would fail if setup tried to install anything
    out = _run(project, "setup", {**env, "PYTHON": str(py)})
    assert out.returncode == 0, out.stderr
    assert "python env ready" in out.stdout
    assert "apt-get" not in Path(env["LOG"]).read_text()
