"""What a data service hands to a consumer: where to connect and as whom."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker


@dataclass
class DatabaseCredentials:
    """A consumer's own database, owned by its own role. `password` is a Pulumi secret."""

    engine: str  # "postgresql" or "mariadb"
    host: str  # as seen from the consumer's host
    port: int
    database: str
    user: str
    password: pulumi.Output[str]
    # The tier network to join when the consumer shares the data host (None across hosts).
    network: docker.Network | None
    # Resource that exists once the database and role do: consumers depend on it.
    ready: pulumi.Resource


@dataclass
class RedisCredentials:
    """A consumer's Redis ACL user and logical database. `password` is a Pulumi secret."""

    host: str
    port: int
    db: int
    user: str
    password: pulumi.Output[str]
    network: docker.Network | None
    ready: pulumi.Resource

    def url(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self.password).apply(
            lambda p: f"redis://{self.user}:{p}@{self.host}:{self.port}/{self.db}"
        )


@dataclass
class SmtpCredentials:
    """A service's own mailbox on the stack's mail server, for SMTP submission (STARTTLS).
    `password` is a Pulumi secret."""

    host: str  # as seen from the consumer's host
    port: int  # 587, submission
    user: str  # full address, e.g. nextcloud@it-stack.lab
    password: pulumi.Output[str]
    from_address: str
    network: docker.Network | None
    ready: pulumi.Resource
