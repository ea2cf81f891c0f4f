"""The sync service's state on PostgreSQL (our local image, tests/dockertools.local_image), as in
production: the ID map, cursors and dead letters survive a SIGKILL of the service mid-batch, and a
resumed run creates nothing twice and loses nothing; the same for the two-way customer flow and
1,000 records. The apps are the fakes of tests/sync/fakes.py."""
import json
import socket
import threading
import time

import pytest

from dockertools import docker, local_image, unique
from itstack_sync.engine import Engine
from itstack_sync.store import Store
from sync.cases import AssetsCase, TimesheetsCase
from sync.conftest import Child
from sync.test_customers import Pair

PASSWORD = "s3cret-pg-sync"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    name, port = unique("itstack-sync-pg"), _free_port()
    try:
        docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5432", "-e", f"POSTGRES_PASSWORD={PASSWORD}",
               local_image("postgres"))
        deadline = time.time() + 120
        while docker("exec", name, "pg_isready", "-h", "127.0.0.1", check=False).returncode != 0:
            assert time.time() < deadline, "postgres not ready after 120 s"
            time.sleep(1)
        # the service's own role and database, as the stack gives it (platform.postgres.database)
        for stmt in (f"CREATE ROLE itstack_sync LOGIN PASSWORD '{PASSWORD}'",
                     "CREATE DATABASE itstack_sync OWNER itstack_sync"):
            docker("exec", name, "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-c", stmt)
        yield name, {"host": "127.0.0.1", "port": port, "user": "itstack_sync", "password": PASSWORD}
    finally:
        docker("rm", "-f", "-v", name, check=False)


@pytest.fixture
def pg(postgres):
    """A database of its own per test, so their ID maps never meet."""
    container, conn = postgres
    db = unique("t").replace("-", "_")
    docker("exec", container, "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-c",
           f"CREATE DATABASE {db} OWNER itstack_sync")
    dsn = dict(conn, database=db)
    s = Store.postgres(**dsn)
    s.path = json.dumps(dsn)  # how run_flow.py reaches the same state
    yield s
    s.close()


@pytest.fixture
def child():
    c = Child()
    yield c
    if c.proc:
        c.kill()
        c.proc.wait(timeout=10)


def _kill_at(fake, child, n):
    seen, killed = [], threading.Event()

    def on_create():
        seen.append(1)
        if len(seen) == n:
            child.kill()
            killed.set()
    fake.on_create = on_create
    return killed


@pytest.mark.parametrize("case_cls", [TimesheetsCase, AssetsCase], ids=["odoo-batch-create", "glpi-one-by-one"])
def test_killed_mid_batch_resumes_on_postgres(pg, child, case_cls):
    case = case_cls(pg)
    try:
        for i in range(80):
            case.add(i)
        killed = _kill_at(case.target_fake, child, 33)
        proc = child.start(json.dumps(case.spec()), pg.path)
        proc.wait(timeout=60)
        assert killed.is_set() and proc.returncode == -9, proc.stderr.read()[-2000:]
        case.target_fake.on_create = None
        with pg.tx() as c:
            pending = c.execute("SELECT COUNT(*) FROM id_map WHERE flow = %s AND state = 'pending'", [case.name]).fetchone()[0]
        assert pending > 0, "the kill should have left create intents behind"
        r = Engine(pg).run(case.flow)
        assert r.error is None and case.count() == 80
        assert case.target() == {i: case.expect(i, 0) for i in range(80)}
        r = Engine(pg).run(case.flow)
        assert r.created + r.updated == 0
        assert pg.health()[case.name]["dead_letters"] == 0 and pg.health()[case.name]["last_success"]
    finally:
        case.close()


def test_customers_two_way_1000_and_kill_on_postgres(pg, child):
    pair = Pair(pg)
    try:
        for i in range(1000):
            pair.account(i)
        killed = _kill_at(pair.odoo, child, 400)
        proc = child.start(json.dumps({"case": "customers", "urls": pair.urls}), pg.path)
        proc.wait(timeout=120)
        assert killed.is_set() and proc.returncode == -9, proc.stderr.read()[-2000:]
        pair.odoo.on_create = None
        r = pair.run()
        assert r.error is None and len(pair.odoo.models["res.partner"]) == 1000 == len(pair.partners())
        r = pair.run()
        assert r.created + r.updated + r.deleted == 0
    finally:
        pair.close()
