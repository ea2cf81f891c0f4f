"""Redis 7: caches, sessions and queues, with one ACL user and logical database per consumer."""
from __future__ import annotations

import hashlib
from typing import Sequence

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from components.catalog import SERVICES
from components.data.credentials import RedisCredentials

PORT = 6379
ACL_FILE = "/usr/local/etc/redis/users.acl"


def _acl_line(user: str, password: str, rules: str) -> str:
    # ACL files accept the SHA-256 of a password (#<hex>): the file never holds the password itself.
    return f"user {user} on #{hashlib.sha256(password.encode()).hexdigest()} {rules}"


class Redis(pulumi.ComponentResource):
    """The Redis container with an ACL file: `default` is the admin (used only by the health
    check); each consumer named in `consumers` gets its own user, without admin or dangerous commands
    (but with INFO, SELECT and KEYS, which Nextcloud and Zammad's session clean-up use)."""

    def __init__(self, ctx: ServiceContext, consumers: Sequence[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:data:Redis", "redis", None, opts)
        self.ctx = ctx
        self.consumers = list(consumers)
        for c in self.consumers:
            if SERVICES[c].redis_db is None:
                raise ValueError(f"redis consumer {c!r} has no fixed logical database in the catalogue")
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("redis-admin-password", length=32, special=False, opts=ro)
        self._passwords = {
            c: random.RandomPassword(f"redis-{c}-password", length=32, special=False, opts=ro) for c in self.consumers
        }
        names = ["default"] + self.consumers
        acl = pulumi.Output.all(self.admin_password.result, *[p.result for p in self._passwords.values()]).apply(
            lambda pws: "\n".join(
                [_acl_line("default", pws[0], "~* &* +@all")]
                + [_acl_line(n, pw, "~* &* +@all -@admin -@dangerous +info +select +keys") for n, pw in zip(names[1:], pws[1:])]
            )
            + "\n"
        )
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(PORT)
        self.container = ctx.container(
            self,
            command=["redis-server", "--aclfile", ACL_FILE, "--appendonly", "yes", "--dir", "/data"],
            # redis-cli reads the password from REDISCLI_AUTH, so it never shows in a process list.
            envs=env_list({"REDISCLI_AUTH": self.admin_password.result}),
            endpoints=[self.endpoint],
            uploads=[docker.ContainerUploadArgs(file=ACL_FILE, content=pulumi.Output.secret(acl))],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/data")],
            healthcheck=health(["redis-cli -h 127.0.0.1 ping | grep -q PONG"]),
        )
        self.data_volume = data
        self.register_outputs({"endpoint": f"{self.endpoint.container_name}:{PORT}"})

    def database(self, consumer: str, for_host: HostRuntime) -> RedisCredentials:
        if consumer not in self._passwords:
            raise ValueError(f"{consumer!r} was not declared as a Redis consumer")
        host, port = self.endpoint.address_for(for_host)
        return RedisCredentials(
            host=host,
            port=port,
            db=SERVICES[consumer].redis_db,
            user=consumer,
            password=pulumi.Output.secret(self._passwords[consumer].result),
            network=self.endpoint.network_for(for_host),
            ready=self.container,
        )
