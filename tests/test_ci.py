"""The GitHub workflows (.github/workflows): what they run, how they are pinned, and that
actionlint (scripts/actionlint, which the unit lane runs on them) really rejects a bad one."""
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(wf: dict):
    for job in wf["jobs"].values():
        yield from job.get("steps", [])


def _pulumi_step(wf: dict) -> dict:
    steps = [s for s in _steps(wf) if s.get("uses", "").startswith("pulumi/actions@")]
    assert len(steps) == 1, steps
    return steps[0]


def _stacks(job: dict) -> list[str]:
    return sorted(entry["stack"] for entry in job["strategy"]["matrix"]["include"])


def _job_of(wf: dict, step: dict) -> dict:
    return next(j for j in wf["jobs"].values() if step in j.get("steps", []))


def test_every_action_is_pinned_by_commit_sha_with_its_release_named():
    uses = re.findall(r"uses:\s*(\S+)(.*)", "".join(p.read_text() for p in WORKFLOWS.glob("*.yml")))
    assert uses
    for ref, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{ref}: pin actions by full commit SHA"
        assert re.match(r"\s*# v\d+\.\d+\.\d+", rest), f"{ref}: say which release the SHA is (# vX.Y.Z)"


def test_pull_requests_run_the_unit_lane_and_comment_a_preview_of_every_stack():
    wf = _load("pull-request.yml")
    assert "pull_request" in wf["on"]
    runs = [s.get("run", "") for s in _steps(wf)]
    assert any(r.strip() == "scripts/test --unit" for r in runs)
    step = _pulumi_step(wf)
    job = _job_of(wf, step)
    assert _stacks(job) == STACKS
    assert step["with"]["command"] == "preview" and step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] is True
    assert job["permissions"]["pull-requests"] == "write"


def test_the_drift_check_refreshes_and_expects_no_changes_for_every_stack_on_a_schedule():
    wf = _load("drift.yml")
    assert wf["on"]["schedule"][0]["cron"]
    step = _pulumi_step(wf)
    assert _stacks(_job_of(wf, step)) == STACKS
    w = step["with"]
    assert (w["command"], w["refresh"], w["expect-no-changes"]) == ("preview", True, True)


@pytest.mark.parametrize("name", ["pull-request.yml", "drift.yml"])
def test_backend_and_passphrase_come_from_repository_secrets(name):
    wf = _load(name)
    step = _pulumi_step(wf)
    job = _job_of(wf, step)
    assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    # The CLI the action installs is the one our Python SDK pin is made for.
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert step["with"]["pulumi-version"] == sdk


def test_docs_ci_explains_every_secret_and_variable_the_workflows_use():
    text = "".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    names = set(re.findall(r"\$\{\{\s*(?:secrets|vars)\.(\w+)", text))
    # Variables looked up by name from the matrix (`vars[matrix.runner]`).
    names |= {e["runner"] for n in ("pull-request.yml", "drift.yml") for j in _load(n)["jobs"].values()
              for e in j.get("strategy", {}).get("matrix", {}).get("include", [])}
    assert "PULUMI_BACKEND_URL" in names and "PULUMI_CONFIG_PASSPHRASE" in names
    doc = (ROOT / "docs" / "ci.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"docs/ci.md does not explain {missing}"


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("""on: pull_request
jobs:
  test:
    runs-on: ubuntu-24.04
    needs: [no-such-job]
    steps:
      - run: echo "${{ github.no_such_field }}"
""")
    out = subprocess.run([str(ROOT / "scripts" / "actionlint"), str(bad)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode != 0
    assert "no-such-job" in out.stdout
    # Ours pass (the unit lane runs this too; here it proves the check above is not vacuous).
    ok = subprocess.run([str(ROOT / "scripts" / "actionlint")], capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_the_setup_and_deploy_scripts_pass_shellcheck():
    import shutil

    assert shutil.which("shellcheck"), "shellcheck is needed: scripts/test-deps installs it"
    scripts = ["scripts/setup", "scripts/test-deps", "scripts/deploy", "scripts/actionlint", "scripts/lib/need-deb.sh"]
    out = subprocess.run(["shellcheck", "-x", *scripts], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
