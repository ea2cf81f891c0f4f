"""The MariaDB dynamic provider, method by method, against a real MariaDB (the local image).

What the engine lane proves through `pulumi up` this proves for each method on its own: a
database and user created with grants on that database only; drift read back; a new admin
address or password recorded by an update and used from then on; a refused login raising in
read and delete with the database left in place (and said so), never silently.
"""

import pymysql
import pytest

from components.data import mariadb_database as mdb
from dockertools import local_mariadb, mariadb_login_ok

ROOT_PW = "containers-lane-root-pw"


@pytest.fixture
def mariadb():
    with local_mariadb("itstack-mariadb-provider", ROOT_PW) as port:
        yield port


def props(port, **kw):
    return {"database": "glpi", "user": "glpi", "password": "glpi-pw", "admin_host": "127.0.0.1",
            "admin_port": port, "admin_user": "root", "admin_password": ROOT_PW, **kw}


def root(port, password=ROOT_PW):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password=password, autocommit=True)


def databases(port) -> set[str]:
    with root(port) as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        return {r[0] for r in cur.fetchall()}


def test_create_read_update_delete(mariadb):
    p = mdb.MariaDbDatabaseProvider()
    created = p.create(props(mariadb))
    assert created.id == "glpi/glpi" and "glpi" in databases(mariadb)
    assert mariadb_login_ok(mariadb, "glpi", "glpi-pw", "glpi") and not mariadb_login_ok(mariadb, "glpi", "glpi-pw", "mysql")
    assert p.read(created.id, created.outs).id == created.id

    new = {**created.outs, "password": "glpi-pw-2"}
    assert p.diff(created.id, created.outs, new).changes
    p.update(created.id, created.outs, new)
    assert mariadb_login_ok(mariadb, "glpi", "glpi-pw-2", "glpi") and not mariadb_login_ok(mariadb, "glpi", "glpi-pw", "glpi")

    # Dropped behind our back: read says gone, so `up` recreates it.
    with root(mariadb) as conn, conn.cursor() as cur:
        cur.execute("DROP DATABASE glpi")
    assert p.read(created.id, new).id is None
    p.create(new)
    p.delete(created.id, new)
    assert "glpi" not in databases(mariadb) and not mariadb_login_ok(mariadb, "glpi", "glpi-pw-2", None)


def test_a_new_admin_address_and_password_are_recorded_and_used(mariadb):
    p = mdb.MariaDbDatabaseProvider()
    # State from before the server moved: another port, the old root password.
    created = p.create(props(mariadb))
    old_state = {**created.outs, "admin_port": mariadb + 1 if mariadb < 65535 else mariadb - 1,
                 "admin_password": "root-pw-before-rotation"}
    with root(mariadb) as conn, conn.cursor() as cur:
        cur.execute("ALTER USER 'root'@'%%' IDENTIFIED BY %s", ("root-pw-rotated",))
    news = {**created.outs, "admin_password": "root-pw-rotated"}
    d = p.diff(created.id, old_state, news)
    assert d.changes and not d.replaces
    outs = p.update(created.id, old_state, news).outs
    assert outs["admin_port"] == mariadb and outs["admin_password"] == "root-pw-rotated"
    # What state now holds reaches the server: refresh and destroy work, the stale one does not.
    assert p.read(created.id, outs).id == created.id
    with pytest.raises(mdb.MariaDbAdminError):
        p.read(created.id, old_state)
    p.delete(created.id, outs)
    assert "glpi" not in databases_as(mariadb, "root-pw-rotated")


def databases_as(port, password) -> set[str]:
    with root(port, password) as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        return {r[0] for r in cur.fetchall()}


def test_refused_login_raises_in_read_and_delete_and_leaves_the_database(mariadb):
    p = mdb.MariaDbDatabaseProvider()
    created = p.create(props(mariadb))
    stale = {**created.outs, "admin_password": "not-the-root-password"}
    for call in (lambda: p.read(created.id, stale), lambda: p.delete(created.id, stale)):
        with pytest.raises(mdb.MariaDbAdminError, match="login refused") as e:
            call()
        assert "not-the-root-password" not in str(e.value) and ROOT_PW not in str(e.value)
    assert "glpi" in databases(mariadb) and mariadb_login_ok(mariadb, "glpi", "glpi-pw", "glpi")
    # An update cannot record settings that do not log in either.
    with pytest.raises(mdb.MariaDbAdminError):
        p.update(created.id, created.outs, stale)
