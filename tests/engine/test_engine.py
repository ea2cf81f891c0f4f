"""Engine lane: what the real Pulumi engine (built from Go modules by scripts/toolchain) can
prove on our machines. The docker, keycloak, postgresql and tls provider plugins cannot be built
here (the Go module proxy refuses them: docs/toolchain.md), so a full preview of dev/prod is its
own lane, switched off by name in .ci/run with the reason printed."""
import shutil

import pymysql
import pytest
import yaml

from conftest import ROOT, Pulumi, program_copy
from dockertools import local_mariadb, mariadb_login_ok

BAD_INPUTS = [
    ("itstack:domain", "not a domain", "config key 'itstack:domain': got 'not a domain'"),
    ("itstack:services", ["keycloak"], "'keycloak' requires 'postgresql'"),
    ("itstack:sizes", {"redis": {"memoryMb": -5}}, "config key 'itstack:sizes.redis.memoryMb': got -5"),
    ("itstack:images", {"postgresql": "postgres"}, "an image with an explicit tag"),
    ("itstack:placement", {"keycloak": "lab-id9"}, "config key 'itstack:placement.keycloak': got 'lab-id9'"),
]


@pytest.fixture
def project_copy(tmp_path):
    """The real project (its Pulumi.yaml and code) in a scratch dir, so test stacks add no files to the clone."""
    dst = tmp_path / "itstack"
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "tests"))
    (dst / ".venv").symlink_to(ROOT / ".venv")
    return dst


@pytest.mark.parametrize("key,value,message", BAD_INPUTS)
def test_bad_input_fails_on_the_real_engine_before_any_resource(project_copy, state_dir, key, value, message):
    pulumi = Pulumi(project_copy, state_dir)
    pulumi.run("stack", "init", "bad", "--secrets-provider", "passphrase")
    # The dev stack's file with one bad value, as a user would write it.
    config = yaml.safe_load((project_copy / "Pulumi.dev.yaml").read_text())
    config["config"][key] = value
    (project_copy / "Pulumi.bad.yaml").write_text(yaml.safe_dump(config))
    up = pulumi.run("up", "--yes", "--stack", "bad", "--skip-preview", check=False)
    assert up.returncode != 0
    assert message in up.stdout + up.stderr, up.stdout + up.stderr
    resources = pulumi.export("bad")["deployment"].get("resources") or []
    # At most the stack itself: no provider, no container, nothing half-created.
    assert [r["type"] for r in resources if r["type"] != "pulumi:pulumi:Stack"] == []


@pytest.fixture
def mariadb():
    """MariaDB from the local image, on a loopback port, removed afterwards."""
    root_pw = "engine-lane-root-pw"
    with local_mariadb("itstack-engine-mariadb", root_pw) as port:
        yield {"host": "127.0.0.1", "port": port, "root_password": root_pw}


def test_mariadb_databases_through_the_real_engine(mariadb, state_dir, tmp_path):
    pulumi = Pulumi(program_copy(ROOT / "tests" / "engine" / "mariadb_program", tmp_path / "program"), state_dir)
    stack = "engine"
    pulumi.run("stack", "init", stack, "--secrets-provider", "passphrase")
    pulumi.run("config", "set", "--stack", stack, "consumers", '["glpi", "snipeit"]')
    pulumi.run("config", "set", "--stack", stack, "adminHost", mariadb["host"])
    pulumi.run("config", "set", "--stack", stack, "adminPort", str(mariadb["port"]))
    pulumi.run("config", "set", "--stack", stack, "--secret", "adminPassword", mariadb["root_password"])

    pulumi.run("up", "--yes", "--stack", stack)
    outs = {k: pulumi.run("stack", "output", k, "--show-secrets", "--stack", stack).stdout.strip()
            for k in ("glpi_password", "snipeit_password")}
    port = mariadb["port"]
    # Each consumer reaches its own database, and is refused on the other's.
    assert mariadb_login_ok(port, "glpi_user", outs["glpi_password"], "glpi")
    assert mariadb_login_ok(port, "snipeit_user", outs["snipeit_password"], "snipeit")
    assert not mariadb_login_ok(port, "glpi_user", outs["glpi_password"], "snipeit")
    assert not mariadb_login_ok(port, "snipeit_user", outs["snipeit_password"], "glpi")
    assert not mariadb_login_ok(port, "glpi_user", "wrong-password", "glpi")

    # Secrets stay secret in the state: no generated password in plain text.
    exported = pulumi.run("stack", "export", "--stack", stack).stdout
    for pw in (*outs.values(), mariadb["root_password"]):
        assert pw not in exported

    # Idempotent: a second preview expects no changes, a second up changes nothing.
    pulumi.run("preview", "--expect-no-changes", "--stack", stack)
    second = pulumi.run("up", "--yes", "--stack", stack, "--json")
    assert '"same"' in second.stdout and '"create"' not in second.stdout.split('"changeSummary"')[-1]

    # Drift: a database dropped behind our back is recreated by refresh + up.
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password=mariadb["root_password"])
    with conn.cursor() as cur:
        cur.execute("DROP USER 'glpi_user'@'%'")
    conn.close()
    pulumi.run("up", "--yes", "--refresh", "--stack", stack)
    assert mariadb_login_ok(port, "glpi_user", outs["glpi_password"], "glpi")

    # Destroy removes users and databases.
    pulumi.run("destroy", "--yes", "--stack", stack)
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password=mariadb["root_password"])
    with conn.cursor() as cur:
        cur.execute("SELECT User FROM mysql.user WHERE User IN ('glpi_user', 'snipeit_user')")
        assert cur.fetchall() == ()
        cur.execute("SHOW DATABASES")
        assert not {"glpi", "snipeit"} & {r[0] for r in cur.fetchall()}
    conn.close()
