"""The business sync service (itstack_sync/, issue 11) as a container of the stack.

- Image: built by the stack on the target host with `docker.RemoteImage(build=...)` from
  itstack_sync/ (its Dockerfile and pinned requirements.txt); the docker plugin here has no native
  `Image` resource. The build fetches only the base image (an official Python image by default,
  or any Debian-based one) and the pinned packages from PyPI: nothing beyond our registries. The
  tag carries a hash of the package's files, so a code change rebuilds and replaces the container.
  The Pulumi program never imports itstack_sync or its runtime dependencies: it hashes files.
- State: its own PostgreSQL database (`platform.postgres.database("itstack_sync", host)`).
- Credentials: one account per app (`AppAccess`), every secret uploaded as a file under
  /run/secrets/itstack-sync/ and named by a *_FILE variable, so neither `docker inspect` nor the
  state's plain inputs show one; the webhook trigger token is generated here.
- Placement: prod on lab-biz1 beside SuiteCRM, Odoo and OpenKM (most flows touch one of them);
  a stack without that host uses the host of Odoo's placement (dev: the one host).
- Health: the container is healthy when its HTTP endpoint answers; /health/<flow> (200/503) is what
  Zabbix watches per flow, so one failing flow never restarts the service.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import health
from components.data.credentials import DatabaseCredentials

SERVICE = "itstack-sync"
PACKAGE = Path(__file__).resolve().parents[2] / "itstack_sync"
PORT = 8080
SECRETS = "/run/secrets/itstack-sync"
BASE_IMAGE = "python:3.11-slim-bookworm"
PROD_HOST = "lab-biz1"
APPS = ("SUITECRM", "ODOO", "TAIGA", "SNIPEIT", "GLPI", "ZAMMAD", "OPENKM", "NEXTCLOUD", "AMI")


@dataclass
class AppAccess:
    """How the service reaches one app: `url` (for AMI: host:port), plain settings (user names,
    database, client id) and secrets (passwords, tokens), each a Pulumi secret."""
    url: pulumi.Input[str]
    settings: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    network: docker.Network | None = None


def package_hash(root: Path = PACKAGE) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def healthcheck() -> docker.ContainerHealthcheckArgs:
    """The HTTP endpoint answers (200 or 503 per flow state): the process is alive. A failing flow
    is Zabbix's business (/health/<flow>), not a reason to restart the container."""
    return health(
        ["/opt/itstack-sync/venv/bin/python -c \"import urllib.request as u, urllib.error as e\n"
         f"try: u.urlopen('http://127.0.0.1:{PORT}/health', timeout=4)\n"
         "except e.HTTPError: pass\""],
        start_period="30s")


class SyncService(pulumi.ComponentResource):
    def __init__(self, name: str, *, host, database: DatabaseCredentials, apps: Mapping[str, AppAccess],
                 base_image: str = BASE_IMAGE, intervals: Mapping[str, int] | None = None,
                 memory_mb: int = 256, opts: pulumi.ResourceOptions | None = None):
        unknown = set(apps) - set(APPS)
        if unknown:  # before any resource: a typo never half-creates the service
            raise ValueError(f"sync service: unknown app(s) {sorted(unknown)}; known: {', '.join(APPS)}")
        super().__init__("itstack:business:SyncService", name, None, opts)
        docker_opts = lambda **kw: pulumi.ResourceOptions(parent=self, provider=host.provider, **kw)
        digest = package_hash()
        self.image = docker.RemoteImage(
            f"{name}-image",
            name=f"itstack-local/{SERVICE}:{digest[:16]}",
            build=docker.RemoteImageBuildArgs(context=str(PACKAGE), dockerfile="Dockerfile",
                                              build_args={"BASE": base_image},
                                              labels={"org.itstack.service": SERVICE}),
            triggers={"package": digest},
            keep_locally=True,
            opts=docker_opts(),
        )
        self.trigger_token = random.RandomPassword(f"{name}-trigger-token", length=40, special=False,
                                                   opts=pulumi.ResourceOptions(parent=self))
        envs: list[pulumi.Input[str]] = [
            f"ITSTACK_SYNC_DB_HOST={database.host}", f"ITSTACK_SYNC_DB_PORT={database.port}",
            f"ITSTACK_SYNC_DB_NAME={database.database}", f"ITSTACK_SYNC_DB_USER={database.user}",
            f"ITSTACK_SYNC_PORT={PORT}",
        ]
        files: dict[str, pulumi.Input[str]] = {"DB_PASSWORD": database.password,
                                               "TRIGGER_TOKEN": self.trigger_token.result}
        for app, access in sorted(apps.items()):
            if app == "AMI":
                hostport = pulumi.Output.from_input(access.url)
                envs.append(hostport.apply(lambda v: f"ITSTACK_SYNC_AMI_HOST={v.rsplit(':', 1)[0]}"))
                envs.append(hostport.apply(lambda v: f"ITSTACK_SYNC_AMI_PORT={v.rsplit(':', 1)[1]}"))
            else:
                envs.append(pulumi.Output.concat(f"ITSTACK_SYNC_{app}_URL=", access.url))
            for key, value in sorted(access.settings.items()):
                envs.append(pulumi.Output.concat(f"ITSTACK_SYNC_{app}_{key}=", value))
            for key, value in sorted(access.secrets.items()):
                files[f"{app}_{key}"] = value
        for key, value in sorted((intervals or {}).items()):
            envs.append(f"ITSTACK_SYNC_INTERVAL_{key.upper()}={int(value)}")
        uploads = []
        for key, value in sorted(files.items()):
            envs.append(f"ITSTACK_SYNC_{key}_FILE={SECRETS}/{key.lower()}")
            uploads.append(docker.ContainerUploadArgs(file=f"{SECRETS}/{key.lower()}",
                                                      content=pulumi.Output.secret(value), permissions="0444"))
        nets, seen = [], set()
        for n in [host.network("business"), database.network] + [a.network for a in apps.values()]:
            if n is not None and id(n) not in seen:
                seen.add(id(n))
                nets.append(docker.ContainerNetworksAdvancedArgs(name=n.name))
        self.container = docker.Container(
            name,
            name=f"{host.prefix()}-{SERVICE}",
            image=self.image.image_id,
            envs=envs,
            uploads=uploads,
            networks_advanced=nets,
            restart="unless-stopped",
            memory=memory_mb,
            healthcheck=healthcheck(),
            wait=True,
            wait_timeout=180,
            labels=[docker.ContainerLabelArgs(label="org.itstack.service", value=SERVICE),
                    docker.ContainerLabelArgs(label="org.itstack.tier", value="business")],
            opts=docker_opts(depends_on=[database.ready], delete_before_replace=True,
                             additional_secret_outputs=["uploads"]),
        )
        self.health_url = f"http://{host.prefix()}-{SERVICE}:{PORT}/health"
        self.register_outputs({"health_url": self.health_url, "image": self.image.name})


def place(platform) -> str:
    """lab-biz1 where the stack has it (prod), else the host Odoo is placed on (dev: the one host)."""
    return PROD_HOST if PROD_HOST in platform.hosts else platform.settings.placement["odoo"]


def deploy(platform, apps: Mapping[str, AppAccess]) -> SyncService:
    """For the composition root, once the integration catalogue decides which flows are on and the
    app components offer the service an account each (`apps`)."""
    host = platform.hosts[place(platform)]
    database = platform.postgres.database("itstack_sync", host)
    return SyncService(SERVICE, host=host, database=database, apps=apps)
