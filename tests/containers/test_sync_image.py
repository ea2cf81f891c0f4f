"""The sync service's image, built from itstack_sync/ as the stack builds it (its Dockerfile, the
pinned requirements) on our local Debian base with the wheels downloaded beforehand (no index in
the build), then run with the secret files the component uploads, against our PostgreSQL image:
the service starts, creates its schema, answers /health, and the component's declared health
check (components/business/sync.healthcheck) passes inside it."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.business import sync
from dockertools import docker, local_image, run_healthcheck, unique

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pg-image"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ctx") / "itstack_sync"
    shutil.copytree(ROOT / "itstack_sync", ctx, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", "3.11",
                        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
                        "-r", str(ctx / "requirements.txt"), "-d", str(ctx / "wheels")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    tag = f"itstack-local/itstack-sync:test-{sync.package_hash()[:12]}"
    r = subprocess.run(["docker", "build", "-q", "--pull=false", "--build-arg", f"BASE={local_image('debian-base')}",
                        "-t", tag, str(ctx)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    yield tag
    docker("rmi", "-f", tag, check=False)


def test_image_starts_answers_health_and_passes_the_declared_check(image, tmp_path):
    net, pg, svc = unique("itstack-sync-net"), unique("itstack-sync-pg"), unique("itstack-sync-svc")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "db_password").write_text(PASSWORD)
    (secrets / "trigger_token").write_text("s3cret-trigger")
    for f in secrets.iterdir():
        f.chmod(0o444)
    try:
        docker("network", "create", net)
        docker("run", "-d", "--name", pg, "--network", net, "-e", f"POSTGRES_PASSWORD={PASSWORD}",
               "-e", "POSTGRES_DB=itstack_sync", local_image("postgres"))
        deadline = time.time() + 120
        while docker("exec", pg, "pg_isready", "-h", "127.0.0.1", check=False).returncode != 0:
            assert time.time() < deadline, "postgres not ready"
            time.sleep(1)
        docker("run", "-d", "--name", svc, "--network", net, "-v", f"{secrets}:{sync.SECRETS}:ro",
               "-e", f"ITSTACK_SYNC_DB_HOST={pg}", "-e", "ITSTACK_SYNC_DB_USER=postgres",
               "-e", f"ITSTACK_SYNC_DB_PASSWORD_FILE={sync.SECRETS}/db_password",
               "-e", f"ITSTACK_SYNC_TRIGGER_TOKEN_FILE={sync.SECRETS}/trigger_token", image)
        tests = sync.healthcheck().tests
        deadline = time.time() + 60
        while not run_healthcheck(svc, tests):
            state = json.loads(docker("inspect", svc).stdout)[0]["State"]
            assert state["Running"], docker("logs", svc, check=False).stderr[-2000:]
            assert time.time() < deadline, docker("logs", svc, check=False).stderr[-2000:]
            time.sleep(1)
        body = docker("exec", svc, "/opt/itstack-sync/venv/bin/python", "-c",
                      "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/health').read().decode())").stdout
        assert json.loads(body) == {"flows": {}}  # no app configured: no flow, healthy
        tables = docker("exec", pg, "psql", "-U", "postgres", "-d", "itstack_sync", "-Atc",
                        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname='public'").stdout
        assert tables.strip() == "cursors,dead_letters,id_map,inbox,runs"
        assert json.loads(docker("inspect", svc).stdout)[0]["Config"]["User"] == "65534:65534"
        logs = docker("logs", svc, check=False)
        assert PASSWORD not in logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", "-v", svc, pg, check=False)
        docker("network", "rm", net, check=False)
