"""The e2e lane (scripts/lane-e2e runs this file by name; the engine lane does not collect it):
a real `pulumi up` of the identity and data tiers with every plugin the program needs — docker,
random, tls, keycloak and postgresql — nothing replaced (tests/engine/tiers_program, stack
`e2e`, committed as Pulumi.e2e.yaml), beside a FreeIPA-shaped 389-ds the lane starts.

Checks: a directory user signs in through a client the program created and gets the groups
claim; FreeIPA's admins hold realm-admin; each database role is refused on another's database;
no generated secret in `stack export`; the preview right after `up` is empty; a killed PostgreSQL
converges with its data; destroy leaves nothing behind.
"""
from __future__ import annotations

import json
import time

import pg8000.native
import pymysql
import pytest

from dockertools import docker
from oidc_flow import admin_token, claims, code_flow_login, request
from tiers import (
    DIRECTORY, containers_of, crash_and_converge, leftovers,
    program_stack, remove_leftovers, start_directory, stop_and_converge, stop_directory,
)

STACK = "e2e"
PREFIX = f"itstack-{STACK}"
USER, PASSWORD = "alice", "Alice-Secret-2026"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    start_directory()
    docker("exec", DIRECTORY, "ds-add-user", USER, PASSWORD, "Alice", "Liddell", "alice@it-stack.test",
           "admins", "developers")
    pulumi, _ = program_stack(tmp_path_factory.mktemp("e2e"), STACK)
    try:
        started = time.monotonic()
        up = pulumi.run("up", "--yes", "--stack", STACK, "--skip-preview")
        print(f"e2e: first up {time.monotonic() - started:.1f} s")
        outputs = json.loads(pulumi.run("stack", "output", "--stack", STACK, "--json", "--show-secrets").stdout)
        yield {"pulumi": pulumi, "up": up, "outputs": outputs}
    finally:
        if pulumi.run("destroy", "--yes", "--stack", STACK, "--skip-preview", check=False).returncode != 0:
            remove_leftovers(STACK)  # the last test has already said that destroy failed
        stop_directory()


def test_the_preview_right_after_up_is_empty(deployed):
    preview = deployed["pulumi"].run("preview", "--stack", STACK, "--expect-no-changes", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr


def test_every_container_is_healthy(deployed):
    for c in containers_of(STACK):
        assert c["State"]["Health"]["Status"] == "healthy", c["Name"]


def _sync_directory(base, token, realm):
    r = f"{base}/admin/realms/{realm}"
    _, _, comps = request("GET", f"{r}/components?type=org.keycloak.storage.UserStorageProvider", token=token)
    fed = next(c for c in comps if c["name"] == "freeipa")
    request("POST", f"{r}/user-storage/{fed['id']}/sync?action=triggerFullSync", {}, token)
    _, _, mappers = request("GET", f"{r}/components?parent={fed['id']}", token=token)
    groups = next(m for m in mappers if m["name"] == "freeipa-groups")
    request("POST", f"{r}/user-storage/{fed['id']}/mappers/{groups['id']}/sync?direction=fedToKeycloak", {}, token)


def test_directory_user_signs_in_through_the_programs_client_with_groups(deployed):
    out = deployed["outputs"]
    base, realm = out["identity"]["admin_url"], out["identity"]["realm"]
    token = admin_token(base, "itstack-admin", out["keycloak_admin_password"])
    _sync_directory(base, token, realm)
    client = out["e2e_client"]
    tokens, page = code_flow_login(base, realm, client["client_id"], out["e2e_client_secret"],
                                   "https://probe.it-stack.test/callback", USER, PASSWORD)
    assert tokens is not None, page[:500]
    id_claims = claims(tokens["id_token"])
    assert id_claims["preferred_username"] == USER and id_claims["iss"] == client["issuer"]
    assert {"admins", "developers"} <= set(id_claims["groups"])
    assert "realm-admin" in claims(tokens["access_token"])["resource_access"]["realm-management"]["roles"]
    refused, page = code_flow_login(base, realm, client["client_id"], out["e2e_client_secret"],
                                    "https://probe.it-stack.test/callback", USER, "not-her-password")
    assert refused is None and "Invalid username or password" in page


def test_each_database_role_is_refused_on_anothers_database(deployed):
    out = deployed["outputs"]
    pg = out["database_endpoints"]["postgresql"]
    mine = out["e2e_databases"]["postgresql"]
    pg8000.native.Connection(mine["user"], host=pg["host"], port=pg["port"], database=mine["database"],
                             password=mine["password"], timeout=10).close()
    for other in ("keycloak", "postgres", "template1"):
        with pytest.raises(pg8000.native.DatabaseError, match="permission denied"):
            pg8000.native.Connection(mine["user"], host=pg["host"], port=pg["port"], database=other,
                                     password=mine["password"], timeout=10)
    my = out["database_endpoints"]["mariadb"]
    maria = out["e2e_databases"]["mariadb"]
    conn = pymysql.connect(host=my["host"], port=my["port"], user=maria["user"], password=maria["password"])
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        assert {r[0] for r in cur.fetchall()} == {"e2e_probe", "information_schema"}
    conn.close()


def test_no_generated_secret_in_the_state_in_plain_text(deployed):
    out = deployed["outputs"]
    exported = json.dumps(deployed["pulumi"].export(STACK))
    secrets = [v for k, v in out.items() if k.endswith("_password")] + [out["e2e_client_secret"]]
    secrets += [d["password"] for d in out["e2e_databases"].values()]
    assert len(secrets) >= 6
    for value in secrets:
        assert value not in exported


def test_a_killed_or_stopped_database_converges_and_keeps_its_data(deployed):
    out = deployed["outputs"]
    pg = out["database_endpoints"]["postgresql"]
    mine = out["e2e_databases"]["postgresql"]

    def rows(insert=None):
        conn = pg8000.native.Connection(mine["user"], host=pg["host"], port=pg["port"], database=mine["database"],
                                        password=mine["password"], timeout=10)
        try:
            if insert:
                conn.run("CREATE TABLE IF NOT EXISTS probe (v text)")
                conn.run("INSERT INTO probe VALUES (:v)", v=insert)
            return [r[0] for r in conn.run("SELECT v FROM probe")]
        finally:
            conn.close()

    assert rows("before the kill") == ["before the kill"]
    crash_and_converge(deployed["pulumi"], STACK, "postgresql")
    assert rows() == ["before the kill"]
    stop_and_converge(deployed["pulumi"], STACK, "postgresql")
    assert rows() == ["before the kill"]


def test_destroy_leaves_nothing_behind(deployed):
    deployed["pulumi"].run("destroy", "--yes", "--stack", STACK, "--skip-preview")
    assert leftovers(STACK) == {"containers": [], "networks": [], "volumes": []}
