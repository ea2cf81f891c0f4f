"""scripts/deploy, the README's deploy command, against a fake `pulumi` that records its calls.

What it must do: never log in (the user's global login stays as it is); a project-local file
backend unless PULUMI_BACKEND_URL is set; `stack init` only for a stack the backend lacks; no
write of its own into Pulumi.<stack>.yaml; refuse to go on without a way to get the passphrase.
"""
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from harness import stack_config
from settings import load_settings

ROOT = Path(__file__).resolve().parent.parent

FAKE_PULUMI = """#!/bin/sh
printf '%s|%s|%s|%s\\n' "$*" "$PULUMI_BACKEND_URL" "$PYTHONPATH" "$PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER" >> "$LOG"
case "$1 $2" in
  "stack ls") printf '%s\\n' "${FAKE_STACKS:-[]}" ;;
  # Like pulumi 3.259's stack init: the whole file rewritten (booleans quoted), a salt added.
  "stack init") f="Pulumi.$3.yaml"; sed 's/: false$/: "false"/' "$f" > "$f.new" && mv "$f.new" "$f"
                echo "encryptionsalt: v1:c2FsdA==:v1:fake" >> "$f" ;;
esac
exit 0
"""

# Says every image is absent except the ones named in $PRESENT.
FAKE_DOCKER = """#!/bin/sh
for a in "$@"; do last=$a; done
case " $PRESENT " in *" $last "*) exit 0 ;; esac
exit 1
"""


def _exe(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def project(tmp_path):
    p = tmp_path / "itstack"
    (p / "scripts").mkdir(parents=True)
    for rel in ("scripts/deploy", "scripts/setup", "requirements.txt", "Pulumi.yaml", "Pulumi.dev.yaml",
                "Pulumi.prod.yaml", "settings.py"):
        shutil.copy2(ROOT / rel, p / rel)
    shutil.copytree(ROOT / "scripts" / "lib", p / "scripts" / "lib")
    for rel in (".venv", "components", "integrations"):
        (p / rel).symlink_to(ROOT / rel)
    fake = tmp_path / "bin"
    fake.mkdir()
    _exe(fake / "pulumi", FAKE_PULUMI)
    _exe(fake / "docker", FAKE_DOCKER)
    return p


def _env(project: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(PATH=f"{project.parent / 'bin'}:{os.environ['PATH']}", LOG=str(project.parent / "calls.log"),
               HOME=str(project.parent))
    env.update(extra)
    return env


def _deploy(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(project / "scripts" / "deploy"), *args], cwd=project.parent, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def _calls(project: Path) -> list[list[str]]:
    log = project.parent / "calls.log"
    return [line.split("|") for line in log.read_text().splitlines()] if log.exists() else []


def test_new_stack_gets_a_project_local_backend_and_is_initialised_once(project):
    before = (project / "Pulumi.dev.yaml").read_bytes()
    out = _deploy(project, _env(project, PULUMI_CONFIG_PASSPHRASE="pw", PRESENT="traefik:nothing"), "dev", "--yes")
    assert out.returncode == 0, out.stdout + out.stderr
    calls = _calls(project)
    commands = [c[0] for c in calls]
    assert commands == ["stack ls --json --non-interactive", "stack init dev --no-select", "up --stack dev --yes"]
    assert not any("login" in c for c in commands)
    backend = f"file://{project}/.state"
    assert all(c[1] == backend for c in calls), calls
    assert (project / ".state").is_dir()
    # The program's own modules importable by the dynamic-provider host, and the state's
    # secrets settings reused when the stack file has none.
    assert calls[-1][2].split(":")[0] == str(project) and calls[-1][3] == "true"
    # Only the salt line stack init needs is added; the rest of the file is as it was.
    assert (project / "Pulumi.dev.yaml").read_bytes() == before + b"encryptionsalt: v1:c2FsdA==:v1:fake\n"
    # The first-up note counts the images of the enabled services that the engine lacks.
    s = load_settings("dev", stack_config("dev"))
    refs = {r.ref for svc, roles in s.images.items() if s.enabled(svc) for r in roles.values()}
    assert f"0 of {len(refs)}" not in out.stdout
    assert f"{len(refs)} of {len(refs)} images to pull" in out.stdout


def test_present_images_are_not_counted_as_to_pull(project):
    s = load_settings("dev", stack_config("dev"))
    refs = sorted({r.ref for svc, roles in s.images.items() if s.enabled(svc) for r in roles.values()})
    out = _deploy(project, _env(project, PULUMI_CONFIG_PASSPHRASE="pw", PRESENT=" ".join(refs[:3])), "dev")
    assert out.returncode == 0, out.stderr
    assert f"{len(refs) - 3} of {len(refs)} images to pull" in out.stdout


def test_existing_stack_and_users_backend_are_left_as_they_are(project):
    stacks = json.dumps([{"name": "prod"}, {"name": "dev", "current": False}])
    env = _env(project, PULUMI_BACKEND_URL="s3://team-bucket/itstack", PULUMI_CONFIG_PASSPHRASE_FILE="/dev/null",
               FAKE_STACKS=stacks)
    out = _deploy(project, env, "dev")
    assert out.returncode == 0, out.stderr
    calls = _calls(project)
    assert [c[0] for c in calls] == ["stack ls --json --non-interactive", "up --stack dev"]
    assert all(c[1] == "s3://team-bucket/itstack" for c in calls)
    assert not (project / ".state").exists()
    assert "images to pull" not in out.stdout


def test_no_passphrase_and_no_terminal_stops_before_pulumi_runs(project):
    out = _deploy(project, _env(project), "dev")
    assert out.returncode != 0
    assert "PULUMI_CONFIG_PASSPHRASE" in out.stderr
    assert _calls(project) == []


def test_unknown_stack_is_refused(project):
    out = _deploy(project, _env(project, PULUMI_CONFIG_PASSPHRASE="pw"), "staging")
    assert out.returncode != 0 and "no Pulumi.staging.yaml" in out.stderr
    assert _calls(project) == []
