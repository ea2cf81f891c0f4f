"""Engine lane: the real Pulumi CLI (scripts/toolchain) with a local file backend."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dockertools import docker, local_image, unique  # noqa: F401  (used by the lane's tests)

ROOT = Path(__file__).resolve().parents[2]


def toolchain_env() -> dict:
    """The environment scripts/toolchain prints (offline knobs, CLI first on PATH)."""
    out = subprocess.run(["bash", "-c", f'eval "$({ROOT}/scripts/toolchain --print-env)" && env -0'],
                         capture_output=True, check=True)
    return dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)


def program_copy(src: Path, dst: Path) -> Path:
    """A test program in a scratch dir (stack init writes Pulumi.<stack>.yaml next to it), with
    its virtualenv pointing at the project's .venv."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
    pulumi_yaml = dst / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("virtualenv: ../../../.venv", f"virtualenv: {ROOT / '.venv'}"))
    return dst


class Pulumi:
    """Runs the CLI in one project directory against a throw-away file backend."""

    def __init__(self, project: Path, state: Path):
        self.project = project
        self.env = toolchain_env()
        self.env.update(PULUMI_BACKEND_URL=f"file://{state}", PULUMI_CONFIG_PASSPHRASE="engine-lane",
                        PULUMI_SKIP_UPDATE_CHECK="true",
                        # Dynamic providers are pickled by reference: the provider host imports
                        # components.* itself, as it does when the project runs from its root.
                        PYTHONPATH=str(ROOT))
        assert shutil.which("pulumi", path=self.env["PATH"]), "scripts/toolchain did not put pulumi on PATH"

    def run(self, *args, check=True) -> subprocess.CompletedProcess:
        proc = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def export(self, stack: str) -> dict:
        return json.loads(self.run("stack", "export", "--stack", stack).stdout)


@pytest.fixture
def state_dir(tmp_path):
    d = tmp_path / "state"
    d.mkdir()
    return d
