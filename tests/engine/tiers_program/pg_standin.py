"""Stand-in for the postgresql provider plugin in the containers engine lane, which cannot build it
here (docs/toolchain.md): the same role, database and REVOKE that components/data/postgresql.py
declares through the plugin, applied over the wire protocol (pg8000) as a dynamic resource.

Test code only: the program itself always uses pulumi_postgresql.
"""
from __future__ import annotations

import re
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CONNECTION = ("admin_host", "admin_port", "admin_password")


def _ident(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"not a safe PostgreSQL identifier: {value!r}")
    return value


def _connect(props: dict[str, Any]):
    import pg8000.native  # in the dynamic-provider host only

    return pg8000.native.Connection("postgres", host=props["admin_host"], port=int(props["admin_port"]),
                                    password=props["admin_password"], database="postgres", timeout=30)


class _Provider(ResourceProvider):
    """`database` given: role `<database>_user` owning `database`, PUBLIC's CONNECT revoked.
    `database` only with `revoke_only`: just the REVOKE (the maintenance databases)."""

    def create(self, props):
        db = _ident(props["database"])
        conn = _connect(props)
        try:
            if not props.get("revoke_only"):
                role = _ident(props["role"])
                if not conn.run("SELECT 1 FROM pg_roles WHERE rolname = :r", r=role):
                    conn.run(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT')
                # The password as a bound literal would be logged by nothing, but ALTER ROLE takes
                # no parameters: quote it as PostgreSQL's literal() would.
                pw = props["password"].replace("'", "''")
                conn.run(f"ALTER ROLE \"{role}\" PASSWORD '{pw}'")
                if not conn.run("SELECT 1 FROM pg_database WHERE datname = :d", d=db):
                    conn.run(f'CREATE DATABASE "{db}" OWNER "{role}" ENCODING \'UTF8\' TEMPLATE template0')
            conn.run(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
        finally:
            conn.close()
        return CreateResult(db, dict(props))

    def read(self, id_, props):
        conn = _connect(props)
        try:
            exists = bool(conn.run("SELECT 1 FROM pg_database WHERE datname = :d", d=props["database"]))
        finally:
            conn.close()
        return ReadResult(id_ if exists else None, props)

    def diff(self, _id, olds, news):
        replaces = [k for k in ("database", "role", "revoke_only") if olds.get(k) != news.get(k)]
        changes = replaces or [k for k in ("password", *_CONNECTION) if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=True)

    def update(self, _id, olds, news):
        self.create(news)
        from pulumi.dynamic import UpdateResult

        return UpdateResult(dict(news))

    def delete(self, _id, props):
        if props.get("revoke_only"):
            return
        conn = _connect(props)
        try:
            conn.run(f'DROP DATABASE IF EXISTS "{_ident(props["database"])}"')
            conn.run(f'DROP ROLE IF EXISTS "{_ident(props["role"])}"')
        finally:
            conn.close()


class PgDatabase(Resource):
    def __init__(self, name: str, *, database: str, role: str | None, password: pulumi.Input[str] | None,
                 admin_host: pulumi.Input[str], admin_port: int, admin_password: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            _Provider(), name,
            {"database": database, "role": role, "revoke_only": role is None,
             "password": pulumi.Output.secret(password) if password is not None else None,
             "admin_host": admin_host, "admin_port": admin_port,
             "admin_password": pulumi.Output.secret(admin_password)},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                additional_secret_outputs=["password", "admin_password"])),
        )
