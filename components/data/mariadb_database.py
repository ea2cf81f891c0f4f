"""A MariaDB database and its own user, as a Pulumi dynamic resource.

There is no MariaDB provider plugin we can build offline, so this small typed client does
create, read, diff, update and delete over the MariaDB wire protocol (PyMySQL). Grants are
limited to the consumer's own database: the user can see no other.

Where and how the provider connects (admin host, port, user, password) is part of `diff`: a
change is an update that stores the new values, so `refresh` and `destroy` never reach for a
stale address or password kept in state. A failed login is an error in every method, never
"nothing there": a delete that cannot log in must not report the database gone.
"""
from __future__ import annotations

import re
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


# Fields that say where and how the provider connects, not what it manages.
CONNECTION_FIELDS = ("admin_host", "admin_port", "admin_user", "admin_password")


class MariaDbAdminError(RuntimeError):
    """The provider could not reach or log in to the server (the message holds no password)."""


def _connect(props: dict[str, Any]):
    import pymysql  # imported here: the provider runs in the engine's dynamic-provider host

    where = f"{props['admin_user']}@{props['admin_host']}:{props['admin_port']}"
    try:
        return pymysql.connect(
            host=props["admin_host"],
            port=int(props["admin_port"]),
            user=props["admin_user"],
            password=props["admin_password"],
            connect_timeout=30,
            autocommit=True,
        )
    except pymysql.err.OperationalError as e:
        # Access denied (1045) or unreachable (2003): either way nothing was read or changed.
        code = e.args[0] if e.args else None
        reason = "login refused" if code in (1044, 1045, 1698) else "cannot connect"
        raise MariaDbAdminError(f"MariaDB {where}: {reason}: {e.args[-1] if e.args else e}") from None


def _check_ident(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"not a safe MariaDB identifier: {value!r}")
    return value


class MariaDbDatabaseProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        db, user = _check_ident(props["database"]), _check_ident(props["user"])
        conn = _connect(props)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, props["password"]))
                cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, props["password"]))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{db}`.* TO %s@'%%'", (user,))
        finally:
            conn.close()
        return CreateResult(f"{db}/{user}", dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        conn = _connect(props)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", (props["database"],))
                has_db = cur.fetchone() is not None
                cur.execute("SELECT User FROM mysql.user WHERE User=%s AND Host='%%'", (props["user"],))
                has_user = cur.fetchone() is not None
        finally:
            conn.close()
        # A database or user deleted behind our back reads as gone, so `up` recreates it.
        return ReadResult(id_ if has_db and has_user else None, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("database", "user") if olds.get(k) != news.get(k)]
        changed = [k for k in ("password", *CONNECTION_FIELDS) if olds.get(k) != news.get(k)]
        # A new admin address or password is an update too: state must hold how to reach the
        # server now, or a later refresh/destroy would use the old one.
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Connecting with the new admin settings proves them before state records them.
        conn = _connect(news)
        try:
            with conn.cursor() as cur:
                if olds.get("password") != news["password"]:
                    cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (news["user"], news["password"]))
        finally:
            conn.close()
        return UpdateResult(dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        db, user = _check_ident(props["database"]), _check_ident(props["user"])
        conn = _connect(props)
        try:
            with conn.cursor() as cur:
                cur.execute("DROP USER IF EXISTS %s@'%%'", (user,))
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        finally:
            conn.close()


class MariaDbDatabase(Resource):
    """Database `database` owned by user `user`@'%' with `password` (a secret)."""

    database: pulumi.Output[str]
    user: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        database: str,
        user: str,
        password: pulumi.Input[str],
        admin_host: pulumi.Input[str],
        admin_port: pulumi.Input[int],
        admin_user: str,
        admin_password: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        _check_ident(database)
        _check_ident(user)
        super().__init__(
            MariaDbDatabaseProvider(),
            name,
            {
                "database": database,
                "user": user,
                "password": pulumi.Output.secret(password),
                "admin_host": admin_host,
                "admin_port": admin_port,
                "admin_user": admin_user,
                "admin_password": pulumi.Output.secret(admin_password),
            },
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["password", "admin_password"])
            ),
        )
