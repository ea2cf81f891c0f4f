"""Shared by the containers engine lane (test_tiers_deploy.py) and the e2e lane (scripts/lane-e2e):
tests/engine/tiers_program deployed with the real CLI onto the local engine, beside a FreeIPA-shaped
389-ds that the lane starts, with the local images (scripts/images)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

from conftest import ROOT, Pulumi
from dockertools import docker, local_image

PROGRAM = ROOT / "tests" / "engine" / "tiers_program"
DIRECTORY = "itstack-lane-389ds"
DIRECTORY_NETWORK = "itstack-lane-directory"
SUFFIX = "dc=it-stack,dc=test"
BIND_DN = f"uid=keycloak-svc,cn=sysaccounts,cn=etc,{SUFFIX}"
# The lane's own directory: throw-away passwords for a throw-away 389-ds on a private network.
BIND_PASSWORD = "lane-bind-pw-2026"
IMAGES = {"postgresql": "postgres", "mariadb": "mariadb", "redis": "redis", "keycloak": "keycloak"}


def start_directory() -> None:
    """The site's directory that identity.mode external points at, as an organisation runs it."""
    stop_directory()
    docker("network", "create", DIRECTORY_NETWORK)
    docker("run", "-d", "--name", DIRECTORY, "--network", DIRECTORY_NETWORK,
           "-e", "DS_DM_PASSWORD=lane-dm-pw-2026", "-e", f"DS_SUFFIX={SUFFIX}",
           "-e", f"DS_BIND_DN={BIND_DN}", "-e", f"DS_BIND_PASSWORD={BIND_PASSWORD}", local_image("389ds"))
    deadline = time.time() + 180
    while docker("exec", DIRECTORY, "/usr/local/bin/ds-healthcheck", check=False).returncode != 0:
        assert time.time() < deadline, "389-ds did not become ready in 180 s"
        time.sleep(2)


def stop_directory() -> None:
    docker("rm", "-f", "-v", DIRECTORY, check=False)
    docker("network", "rm", DIRECTORY_NETWORK, check=False)


def program_stack(tmp: Path, stack: str) -> tuple[Pulumi, Path]:
    """A copy of the program with its committed stack file, the stack initialised, and the values
    only the lane knows set: the local images and the directory's bind password (a secret)."""
    project = tmp / "tiers"
    shutil.copytree(PROGRAM, project, ignore=shutil.ignore_patterns("__pycache__"))
    pulumi_yaml = project / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("virtualenv: ../../../.venv", f"virtualenv: {ROOT / '.venv'}"))
    state = tmp / "state"
    state.mkdir()
    pulumi = Pulumi(project, state)
    # The dynamic stand-in (pg_standin) is imported by the provider host by module name.
    pulumi.env["PYTHONPATH"] = f"{ROOT}:{project}"
    pulumi.run("stack", "init", stack, "--secrets-provider", "passphrase")
    images = {svc: local_image(name) for svc, name in IMAGES.items()}
    pulumi.run("config", "set", "--stack", stack, "--path", "itstack:images", json.dumps(images))
    pulumi.run("config", "set", "--stack", stack, "--secret", "itstack:directoryBindPassword", BIND_PASSWORD)
    return pulumi, project


def containers_of(stack: str) -> list[dict]:
    names = docker("ps", "-a", "--filter", f"label=org.itstack.stack={stack}", "--format", "{{.Names}}").stdout.split()
    return [json.loads(docker("inspect", n).stdout)[0] for n in names]


def leftovers(stack: str) -> dict[str, list[str]]:
    """Containers, networks and volumes of the stack still on the engine."""
    prefix = f"itstack-{stack}-"
    return {
        "containers": [c["Name"] for c in containers_of(stack)],
        "networks": [n for n in docker("network", "ls", "--format", "{{.Name}}").stdout.split() if n.startswith(prefix)],
        "volumes": [v for v in docker("volume", "ls", "--format", "{{.Name}}").stdout.split() if v.startswith(prefix)],
    }


def remove_leftovers(stack: str) -> dict[str, list[str]]:
    """Remove what an interrupted earlier run of this lane left on the engine (its state is gone
    with its temp dir); returns what was there, for the log."""
    found = leftovers(stack)
    for c in found["containers"]:
        docker("rm", "-f", "-v", c.lstrip("/"), check=False)
    for n in found["networks"]:
        docker("network", "rm", n, check=False)
    for v in found["volumes"]:
        docker("volume", "rm", "-f", v, check=False)
    return found


def wait_healthy(name: str, seconds: int = 180) -> dict:
    deadline = time.time() + seconds
    while True:
        state = json.loads(docker("inspect", name).stdout)[0]["State"]
        if state["Running"] and state.get("Health", {}).get("Status") == "healthy":
            return state
        assert time.time() < deadline, f"{name} not healthy again after {seconds} s: {state['Status']}"
        time.sleep(2)


def _expect_no_changes(pulumi: Pulumi, stack: str) -> None:
    """Converged: every container of the stack healthy again and nothing left to change."""
    for c in containers_of(stack):
        wait_healthy(c["Name"].lstrip("/"))
    preview = pulumi.run("preview", "--stack", stack, "--expect-no-changes", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr


def crash_and_converge(pulumi: Pulumi, stack: str, service: str) -> None:
    """The service's main process killed from the host (SIGKILL, as the OOM killer or a crash):
    the restart policy brings it back healthy, and `up` then finds nothing to change."""
    name = f"itstack-{stack}-{service}"
    os.kill(json.loads(docker("inspect", name).stdout)[0]["State"]["Pid"], signal.SIGKILL)
    wait_healthy(name)
    assert json.loads(docker("inspect", name).stdout)[0]["RestartCount"] >= 1
    pulumi.run("up", "--yes", "--stack", stack, "--skip-preview")
    _expect_no_changes(pulumi, stack)


def stop_and_converge(pulumi: Pulumi, stack: str, service: str) -> None:
    """The container stopped by hand (`docker kill`), which the restart policy respects. A refresh
    of that container alone (the databases inside cannot be read while it is down) finds it
    stopped; `up` replaces it on the same volume; the next preview is empty."""
    name = f"itstack-{stack}-{service}"
    docker("kill", name)
    urn = next(r["urn"] for r in pulumi.export(stack)["deployment"]["resources"]
               if r["type"] == "docker:index/container:Container" and r["urn"].endswith(f"::{service}"))
    pulumi.run("refresh", "--yes", "--stack", stack, "--target", urn)
    pulumi.run("up", "--yes", "--stack", stack, "--skip-preview")
    wait_healthy(name)
    _expect_no_changes(pulumi, stack)
