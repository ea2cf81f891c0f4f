"""PostgreSQL 16: the shared relational database, one database and one role per consumer."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pulumi_postgresql as postgresql
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials

PORT = 5432
SUPERUSER = "postgres"
# Databases every cluster has; PUBLIC may connect to them unless revoked.
MAINTENANCE_DATABASES = ("postgres", "template1")


class PostgreSQL(pulumi.ComponentResource):
    """The PostgreSQL container, its data volume, and a `pulumi_postgresql.Provider` built from it.

    `database(name, for_host)` gives a consumer its own database, owned by its own login role
    (random password, no superuser, no CREATEDB/CREATEROLE), with CONNECT revoked from PUBLIC so
    no other role can open it.
    """

    def __init__(self, ctx: ServiceContext, opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:data:PostgreSQL", "postgresql", None, opts)
        self.ctx = ctx
        self.admin_password = random.RandomPassword(
            # Read only when the data directory is first initialised: a new one would lock us out.
            "postgresql-superuser-password", length=32, special=False,
            opts=pulumi.ResourceOptions(parent=self, **ctx.keep_data)
        )
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(PORT, published=True)
        self.container = ctx.container(
            self,
            envs=env_list(
                {
                    "POSTGRES_USER": SUPERUSER,
                    "POSTGRES_PASSWORD": self.admin_password.result,
                    "POSTGRES_DB": "postgres",
                    # Password logins over TCP use SCRAM, never md5 or trust.
                    "POSTGRES_INITDB_ARGS": "--auth-host=scram-sha-256",
                    "PGDATA": "/var/lib/postgresql/data/pgdata",
                }
            ),
            endpoints=[self.endpoint],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/lib/postgresql/data")],
            # Readiness is a real query over TCP with the superuser's password, not just a socket.
            healthcheck=health(
                [
                    'pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d postgres',
                    'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres -tAc "select 1" | grep -q 1',
                ]
            ),
        )
        self.data_volume = data
        self._databases: dict[str, tuple] = {}
        self.provider = self._admin_provider()
        # PUBLIC may CONNECT to every database by default, the maintenance ones included: only
        # the superuser may open them, so a consumer's role reaches nothing but its own database.
        self.maintenance_grants = [self._revoke_public(db) for db in MAINTENANCE_DATABASES]
        self.register_outputs({"endpoint": f"{self.endpoint.container_name}:{PORT}"})

    # The admin side (roles, databases, grants) goes through the postgresql provider plugin. The
    # three methods below are its only users, so a lane without that plugin can replace them.
    def _admin_provider(self) -> pulumi.ProviderResource:
        host, port = self.endpoint.admin_address
        return postgresql.Provider(
            "postgresql-admin",
            host=self.container.name.apply(lambda _: host),  # only once the container is healthy
            port=port,
            username=SUPERUSER,
            password=self.admin_password.result,
            database="postgres",
            sslmode="disable",
            superuser=True,
            connect_timeout=30,
            expected_version="16",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _revoke_public(self, database: pulumi.Input[str], name: str | None = None) -> pulumi.Resource:
        """Only the owner (and the superuser) may connect: PUBLIC loses CONNECT and TEMP."""
        return postgresql.Grant(
            f"postgresql-{name or database}-revoke-public",
            database=database,
            role="public",
            object_type="database",
            privileges=[],
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )

    def _consumer_database(self, name: str, password: pulumi.Output[str]) -> pulumi.Resource:
        """Role `<name>_user` and database `name` it owns; returns what is ready last."""
        opts = pulumi.ResourceOptions(parent=self, provider=self.provider, **self.ctx.keep_data)
        role = postgresql.Role(
            f"postgresql-{name}-role",
            name=f"{name}_user",
            login=True,
            password=password,
            superuser=False,
            create_database=False,
            create_role=False,
            inherit=True,
            opts=opts,
        )
        db = postgresql.Database(
            f"postgresql-{name}-db",
            name=name,
            owner=role.name,
            encoding="UTF8",
            template="template0",
            opts=opts,
        )
        return self._revoke_public(db.name, name)

    def database(self, name: str, for_host: HostRuntime) -> DatabaseCredentials:
        """The consumer's own database `name`, owned by role `<name>_user`."""
        if name not in self._databases:
            password = random.RandomPassword(
                f"postgresql-{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            self._databases[name] = (self._consumer_database(name, password.result), password)
        ready, password = self._databases[name]
        host, port = self.endpoint.address_for(for_host)
        return DatabaseCredentials(
            engine="postgresql",
            host=host,
            port=port,
            database=name,
            user=f"{name}_user",
            password=pulumi.Output.secret(password.result),
            network=self.endpoint.network_for(for_host),
            ready=ready,
        )
