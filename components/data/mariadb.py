"""MariaDB: the relational database for the PHP apps that cannot use PostgreSQL
(SuiteCRM, GLPI, Snipe-IT, FreePBX; itstack-spec.md §4.8)."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials
from components.data.mariadb_database import MariaDbDatabase

PORT = 3306


class MariaDB(pulumi.ComponentResource):
    """The MariaDB container and its data volume. `database(name, for_host)` gives a consumer
    its own database and user (`<name>_user`, random password, privileges on that database only)."""

    def __init__(self, ctx: ServiceContext, opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:data:MariaDB", "mariadb", None, opts)
        self.ctx = ctx
        self.root_password = random.RandomPassword(
            # Read only when the data directory is first initialised: a new one would lock us out.
            "mariadb-root-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self, **ctx.keep_data)
        )
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(PORT, published=True)
        self.container = ctx.container(
            self,
            envs=env_list({"MARIADB_ROOT_PASSWORD": self.root_password.result, "MARIADB_AUTO_UPGRADE": "1"}),
            endpoints=[self.endpoint],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/lib/mysql")],
            # A real query over TCP as root proves the server accepts logins.
            healthcheck=health(
                ['mariadb -h 127.0.0.1 -uroot -p"$MARIADB_ROOT_PASSWORD" -Nse "select 1" | grep -q 1']
            ),
        )
        self.data_volume = data
        self._databases: dict[str, tuple] = {}
        self.register_outputs({"endpoint": f"{self.endpoint.container_name}:{PORT}"})

    def database(self, name: str, for_host: HostRuntime) -> DatabaseCredentials:
        if name not in self._databases:
            password = random.RandomPassword(
                f"mariadb-{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            admin_host, admin_port = self.endpoint.admin_address
            db = MariaDbDatabase(
                f"mariadb-{name}",
                database=name,
                user=f"{name}_user",
                password=password.result,
                # Reached only after the container is healthy: the host comes from its output.
                admin_host=self.container.name.apply(lambda _: admin_host),
                admin_port=admin_port,
                admin_user="root",
                admin_password=self.root_password.result,
                # Its delete runs DROP DATABASE: protected and retained with protectData.
                opts=pulumi.ResourceOptions(parent=self, **self.ctx.keep_data),
            )
            self._databases[name] = (db, password)
        db, password = self._databases[name]
        host, port = self.endpoint.address_for(for_host)
        return DatabaseCredentials(
            engine="mariadb",
            host=host,
            port=port,
            database=name,
            user=f"{name}_user",
            password=pulumi.Output.secret(password.result),
            network=self.endpoint.network_for(for_host),
            ready=db,
        )
