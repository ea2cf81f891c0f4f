"""The program's own identity and data containers, deployed for real (issue 8).

tests/engine/tiers_program runs the program's composition root (stack.build) and components with
the real CLI and the docker plugin that scripts/toolchain builds: every container, volume,
network, health check, limit and upload exactly as the components declare them. The two admin-API
parts that need the keycloak and postgresql plugins (not buildable here) are replaced: PostgreSQL's
roles/databases/REVOKEs by the same statements over the wire protocol, Keycloak's realm left out
(the e2e lane, scripts/lane-e2e, runs them with the real plugins where they are installed).

Mocks cannot see what Docker reads back differently from what it was given; this can: the first
preview after `up` must be empty.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pg8000.native
import pytest

from dockertools import docker
from tiers import (
    containers_of, crash_and_converge, leftovers, program_stack,
    remove_leftovers, start_directory, stop_and_converge, stop_directory,
)

STACK = "containers"
PREFIX = f"itstack-{STACK}"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    stale = remove_leftovers(STACK)
    if any(stale.values()):
        print(f"removed what an interrupted earlier run left: {stale}")
    start_directory()
    pulumi, project = program_stack(tmp_path_factory.mktemp("tiers"), STACK)
    try:
        up = pulumi.run("up", "--yes", "--stack", STACK, "--skip-preview")
        outputs = json.loads(pulumi.run("stack", "output", "--stack", STACK, "--json", "--show-secrets").stdout)
        yield {"pulumi": pulumi, "up": up, "outputs": outputs}
    finally:
        if pulumi.run("destroy", "--yes", "--stack", STACK, "--skip-preview", check=False).returncode != 0:
            remove_leftovers(STACK)  # the last test has already said that destroy failed
        stop_directory()


def _pg(outputs, user="postgres", password=None, database="postgres"):
    ep = outputs["database_endpoints"]["postgresql"]
    return pg8000.native.Connection(user, host=ep["host"], port=ep["port"], database=database,
                                    password=password or outputs["postgresql_admin_password"], timeout=10)


def test_every_container_comes_up_healthy(deployed):
    containers = containers_of(STACK)
    names = sorted(c["Name"].lstrip("/") for c in containers)
    assert names == [f"{PREFIX}-{s}" for s in ("keycloak", "mariadb", "postgresql", "redis")]
    for c in containers:
        assert c["State"]["Health"]["Status"] == "healthy", (c["Name"], c["State"]["Health"]["Log"][-1:])
        # What the program declared, as the engine holds it.
        assert c["HostConfig"]["MemorySwap"] == c["HostConfig"]["Memory"] > 0, c["Name"]


def test_keycloak_is_ready_when_docker_says_healthy(deployed):
    """Healthy means /health/ready answers 200 (the old probe said healthy while Keycloak gave 503)."""
    admin_url = deployed["outputs"]["identity"]["admin_url"]
    with urllib.request.urlopen(f"{admin_url}/realms/master/.well-known/openid-configuration", timeout=10) as r:
        assert r.status == 200
    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": "itstack-admin",
                                   "password": deployed["outputs"]["keycloak_admin_password"]}).encode()
    with urllib.request.urlopen(f"{admin_url}/realms/master/protocol/openid-connect/token", body, timeout=30) as r:
        assert "access_token" in json.loads(r.read())


def test_the_preview_right_after_up_is_empty(deployed):
    preview = deployed["pulumi"].run("preview", "--stack", STACK, "--expect-no-changes", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr


def test_no_generated_secret_in_the_state_in_plain_text(deployed):
    exported = json.dumps(deployed["pulumi"].export(STACK))
    secrets = [v for k, v in deployed["outputs"].items() if k.endswith("_password")]
    assert len(secrets) >= 3
    for value in secrets:
        assert value not in exported


def test_keycloak_role_reaches_only_its_own_database(deployed):
    out = deployed["outputs"]
    # The role's password never leaves the stack's secrets: read it from the Keycloak container's env.
    env = json.loads(docker("inspect", f"{PREFIX}-keycloak").stdout)[0]["Config"]["Env"]
    password = next(e.split("=", 1)[1] for e in env if e.startswith("KC_DB_PASSWORD="))
    _pg(out, "keycloak_user", password, "keycloak").close()
    for other in ("postgres", "template1"):
        with pytest.raises(pg8000.native.DatabaseError, match="permission denied"):
            _pg(out, "keycloak_user", password, other)


def _probe_row(out, value=None):
    conn = _pg(out)
    try:
        if value is not None:
            conn.run("CREATE TABLE IF NOT EXISTS lane_probe (v text)")
            conn.run("INSERT INTO lane_probe VALUES (:v)", v=value)
        return [r[0] for r in conn.run("SELECT v FROM lane_probe")]
    finally:
        conn.close()


def test_a_killed_database_converges_and_keeps_its_data(deployed):
    """PostgreSQL's server process killed (SIGKILL from the host, as the OOM killer or a crash
    would): the restart policy brings it back on the same volume; `up` then has nothing to do."""
    out = deployed["outputs"]
    assert _probe_row(out, "written before the kill") == ["written before the kill"]
    crash_and_converge(deployed["pulumi"], STACK, "postgresql")
    assert _probe_row(out) == ["written before the kill"]


def test_a_database_stopped_by_hand_is_started_by_a_targeted_refresh(deployed):
    """`docker kill`/`docker stop` is a deliberate stop that the restart policy respects; a refresh
    of the container alone and `up` bring it back, data intact."""
    stop_and_converge(deployed["pulumi"], STACK, "postgresql")
    assert _probe_row(deployed["outputs"]) == ["written before the kill"]


def test_destroy_leaves_nothing_behind(deployed):
    deployed["pulumi"].run("destroy", "--yes", "--stack", STACK, "--skip-preview")
    assert leftovers(STACK) == {"containers": [], "networks": [], "volumes": []}
