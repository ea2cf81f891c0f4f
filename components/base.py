"""Building blocks every service component uses: hosts, networks, endpoints, containers, volumes.

A component never talks to Docker directly: it asks its `ServiceContext` for a container,
a volume or a network, so every container gets the same guarantees (pinned image, health
check, wait=True, restart policy, limits, no secrets in labels) and placement follows the
settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from components.catalog import SERVICES
from settings import Host, Settings

PROJECT = "itstack"


class HostRuntime:
    """One Docker host: its provider and its per-tier networks, created on first use."""

    def __init__(self, settings: Settings, host: Host):
        self.settings = settings
        self.host = host
        self.name = host.name
        self.address = host.address
        self.provider = docker.Provider(
            f"docker-{host.name}",
            host=host.docker_host,
            # ssh:// hosts: don't let ssh prompt for an unknown host key in CI.
            ssh_opts=["-o", "BatchMode=yes"] if host.docker_host.startswith("ssh://") else None,
            # Remote engines are reached on first real use, not at provider start, so a first
            # preview (a reviewer's, CI's) needs no ssh access to every host.
            disable_docker_daemon_check=host.docker_host.startswith("ssh://"),
        )
        self._networks: dict[str, docker.Network] = {}
        # (host port, protocol) -> who publishes it, so two services never claim one port.
        self._published: dict[tuple[int, str], str] = {}

    def claim_port(self, port: int, protocol: str, owner: str) -> int:
        key = (port, protocol)
        if key in self._published and self._published[key] != owner:
            raise ValueError(
                f"host {self.name}: port {port}/{protocol} is published by both {self._published[key]} and {owner}; "
                f"give one of them another host port"
            )
        self._published[key] = owner
        return port

    def prefix(self) -> str:
        return f"{PROJECT}-{self.settings.stack}"

    def network(self, tier: str) -> docker.Network:
        """The network of a tier on this host. The data tier's network is internal: no route out."""
        if tier not in self._networks:
            options = None
            internal = tier == "data"
            if tier == "publish":
                # Containers that publish ports join this network only for that: no NAT to the
                # outside, so a data container gains no route out by publishing its admin port.
                options = {"com.docker.network.bridge.enable_ip_masquerade": "false"}
            self._networks[tier] = docker.Network(
                f"{self.name}-net-{tier}",
                name=f"{self.prefix()}-{tier}",
                internal=internal,
                options=options,
                labels=[docker.NetworkLabelArgs(label="org.itstack.tier", value=tier)],
                opts=pulumi.ResourceOptions(provider=self.provider, delete_before_replace=True),  # fixed name
            )
        return self._networks[tier]

    # Docker Engine API 1.44 (Docker 25) added the health check start interval.
    START_INTERVAL_API = (1, 44)

    def healthcheck(self, check: docker.ContainerHealthcheckArgs) -> docker.ContainerHealthcheckArgs:
        """The check as this host's engine accepts it: probed every 2 s during the start period
        where the engine can (API 1.44+); older engines refuse the setting outright."""
        if self.host.api_version < self.START_INTERVAL_API:
            return check
        return docker.ContainerHealthcheckArgs(
            tests=check.tests, interval=check.interval, timeout=check.timeout, retries=check.retries,
            start_period=check.start_period, start_interval="2s",
        )

    def published_port(self, port: int) -> int:
        return port + self.host.port_offset


@dataclass
class Endpoint:
    """Where a service listens, and how a consumer on any host reaches it."""

    service: str
    container_name: str
    port: int
    host: HostRuntime
    tier: str
    published: int | None = None  # host port, when published on the host's address
    protocol: str = "tcp"

    def address_for(self, consumer: HostRuntime) -> tuple[str, int]:
        """Same host: the container's name on the shared tier network. Other host: host address."""
        if consumer is self.host:
            return self.container_name, self.port
        if self.published is None:
            raise ValueError(f"{self.service} is not published on {self.host.name} but {consumer.name} needs it")
        return self.host.address, self.published

    def network_for(self, consumer: HostRuntime) -> docker.Network | None:
        return self.host.network(self.tier) if consumer is self.host else None

    @property
    def admin_address(self) -> tuple[str, int]:
        """How the Pulumi engine (providers) reaches it: the host's address and published port."""
        assert self.published is not None, f"{self.service}:{self.port} is not published"
        return self.host.address, self.published


@dataclass
class Route:
    """A web route Traefik publishes: https://<fqdn>/ -> endpoint."""

    service: str
    fqdn: str
    endpoint: Endpoint
    scheme: str = "http"


@dataclass
class ServiceContext:
    """What a component needs to know about where and how it runs."""

    settings: Settings
    service: str
    host: HostRuntime
    hosts: Mapping[str, HostRuntime] = field(default_factory=dict)
    _images: dict = field(default_factory=dict)

    @property
    def spec(self):
        return SERVICES[self.service]

    @property
    def tier(self) -> str:
        return self.spec.tier

    @property
    def domain(self) -> str:
        return self.settings.domain

    @property
    def fqdn(self) -> str:
        return f"{self.spec.subdomain}.{self.settings.domain}"

    @property
    def url(self) -> str:
        return f"https://{self.fqdn}"

    def container_name(self, role: str = "main") -> str:
        suffix = "" if role == "main" else f"-{role}"
        return f"{self.host.prefix()}-{self.service}{suffix}"

    def opts(self, parent: pulumi.Resource, **kw) -> pulumi.ResourceOptions:
        """Options for a Docker object of this service. Containers, volumes and networks have fixed
        names, so a replacement must remove the old object first: Pulumi's default (create the new
        one, then delete the old) fails on a real engine with "name ... is already in use"."""
        kw.setdefault("delete_before_replace", True)
        return pulumi.ResourceOptions(parent=parent, provider=self.host.provider, **kw)

    @property
    def keep_data(self) -> dict:
        """Options for what holds data or is read only at first initialisation (databases, roles,
        realm, superuser passwords, volumes): with protectData (prod) protected, and retained rather
        than dropped if it ever leaves the program."""
        keep = self.settings.protect_data
        return {"protect": keep, "retain_on_delete": keep}

    def volume(self, parent: pulumi.Resource, purpose: str) -> docker.Volume:
        """A named data volume. It is its own resource, so replacing a container keeps it;
        protected from deletion when the stack's protectData is true (prod by default)."""
        name = f"{self.host.prefix()}-{self.service}-{purpose}"
        return docker.Volume(
            f"{self.service}-{purpose}",
            name=name,
            labels=[docker.VolumeLabelArgs(label="org.itstack.service", value=self.service)],
            opts=self.opts(parent, **self.keep_data),
        )

    def endpoint(self, port: int, role: str = "main", published: bool = False, host_port: int | None = None,
                 protocol: str = "tcp") -> Endpoint:
        """`published`: also on the host's address (for the engine's providers). With several
        hosts every endpoint is published, since other hosts reach it by address. `host_port`
        (before the host's portOffset) when the container port is already taken on the host."""
        published = published or self.settings.multi_host
        host_published = None
        if published:
            host_published = self.host.claim_port(
                self.host.published_port(host_port or port), protocol, f"{self.service}/{role}"
            )
        return Endpoint(
            service=self.service,
            container_name=self.container_name(role),
            port=port,
            host=self.host,
            tier=self.tier,
            published=host_published,
            protocol=protocol,
        )

    def route(self, endpoint: Endpoint, scheme: str = "http") -> Route:
        return Route(service=self.service, fqdn=self.fqdn, endpoint=endpoint, scheme=scheme)

    def image(self, parent: pulumi.Resource, role: str = "main") -> docker.RemoteImage:
        if role in self._images:
            return self._images[role]
        ref = self.settings.image(self.service, role)
        self._images[role] = docker.RemoteImage(
            f"{self.service}-{role}-image",
            name=ref.ref,
            # Another stack on the same host may use the image: never delete it on destroy.
            keep_locally=True,
            opts=self.opts(parent),
        )
        return self._images[role]

    def container(
        self,
        parent: pulumi.Resource,
        *,
        role: str = "main",
        image_role: str | None = None,
        healthcheck: docker.ContainerHealthcheckArgs,
        envs: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        command: Sequence[pulumi.Input[str]] | None = None,
        entrypoints: Sequence[str] | None = None,
        endpoints: Sequence[Endpoint] = (),
        volumes: Sequence[docker.ContainerVolumeArgs] = (),
        networks: Sequence[docker.Network | None] = (),
        network_names: Sequence[pulumi.Input[str]] = (),
        uploads: Sequence[docker.ContainerUploadArgs] = (),
        wait_timeout: int = 300,
        memory_mb: int | None = None,
        extra: Mapping | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> docker.Container:
        """A service container with the guarantees every container gets.

        `endpoints` are where the container listens; those marked published are bound on the
        host's address only (the engine's providers and other hosts reach them there).
        `envs` and `uploads` are stored as secrets (the docker schema doesn't mark them).
        `networks`: tier networks of other services on this host that this container talks to.
        """
        size = self.settings.sizes[self.service]
        ports = [(e.port, e.published, e.protocol) for e in endpoints if e.published is not None]
        # Several containers may share one image (e.g. Zammad's rails, scheduler, websocket).
        image = self.image(parent, image_role or role)
        nets = [self.host.network(self.tier)] + [n for n in networks if n is not None]
        if ports:
            nets.append(self.host.network("publish"))
        seen: set[int] = set()
        networks_advanced = []
        for n in nets:
            if id(n) in seen:
                continue
            seen.add(id(n))
            networks_advanced.append(docker.ContainerNetworksAdvancedArgs(name=n.name, aliases=[self.container_name(role)]))
        # Networks this program does not own (an external directory's), by name.
        networks_advanced += [docker.ContainerNetworksAdvancedArgs(name=n) for n in network_names]
        if healthcheck is None or not healthcheck.tests:
            raise ValueError(f"{self.service}/{role}: every container needs a health check")
        healthcheck = self.host.healthcheck(healthcheck)
        kwargs = dict(hostname=self.container_name(role), log_opts={"max-size": "20m", "max-file": "3"})
        kwargs.update(extra or {})  # e.g. log_driver/log_opts to ship logs elsewhere
        return docker.Container(
            f"{self.service}" + ("" if role == "main" else f"-{role}"),
            name=self.container_name(role),
            image=image.image_id,
            envs=envs,
            command=list(command) if command else None,
            entrypoints=list(entrypoints) if entrypoints else None,
            healthcheck=healthcheck,
            wait=True,
            wait_timeout=wait_timeout,
            restart="unless-stopped",
            memory=memory_mb or size.memory_mb,
            # Memory + swap = the memory limit: no swap, the limit means what it says. Left unset,
            # Docker reads back twice the limit and every preview would show a change.
            memory_swap=memory_mb or size.memory_mb,
            cpus=str(size.cpus),
            ports=[
                docker.ContainerPortArgs(internal=c, external=h, ip=self.host.address, protocol=proto)
                for c, h, proto in ports
            ],
            volumes=list(volumes),
            uploads=list(uploads),
            networks_advanced=networks_advanced,
            # Labels carry names only, never a credential.
            labels=[
                docker.ContainerLabelArgs(label="org.itstack.service", value=self.service),
                docker.ContainerLabelArgs(label="org.itstack.role", value=role),
                docker.ContainerLabelArgs(label="org.itstack.stack", value=self.settings.stack),
            ],
            **kwargs,
            opts=self.opts(parent, depends_on=list(depends_on), additional_secret_outputs=["envs", "uploads"]),
        )


_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1}


def go_duration(text: str) -> str:
    """A duration in the form Docker reads it back in (Go's time.Duration.String(): "2m0s", not
    "120s"), so the state matches what the engine reports and the next preview shows no change."""
    import re

    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or parts is None:
        raise ValueError(f"duration {text!r}: use whole seconds, minutes or hours such as '30s', '2m', '1h'")
    seconds = sum(int(v) * _DURATION_UNITS[u] for v, u in zip(parts.groups(), "hms") if v)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def health(tests: Sequence[str], *, interval: str = "10s", timeout: str = "5s", retries: int = 12,
           start_period: str = "30s") -> docker.ContainerHealthcheckArgs:
    """A health check: one or more shell commands joined by && (run by Docker as `/bin/sh -c`),
    or an exec form given whole (["CMD", "bash", "-c", script]) when a script needs a shell
    of its own, so it is never quoted inside another shell's string."""
    return docker.ContainerHealthcheckArgs(
        tests=list(tests) if tests[0] == "CMD" else ["CMD-SHELL", " && ".join(tests)],
        interval=go_duration(interval),
        timeout=go_duration(timeout),
        retries=retries,
        start_period=go_duration(start_period),
    )


def http_health(url: str, expect: str | None = None, tool: str = "curl", **kw) -> docker.ContainerHealthcheckArgs:
    """Health check by HTTP from inside the container, optionally requiring text in the body."""
    if tool == "curl":
        fetch = f"curl -fsS --max-time 4 '{url}'"
    else:
        fetch = f"wget -q -T 4 -O - '{url}'"
    cmd = f"{fetch} | grep -q '{expect}'" if expect else f"{fetch} >/dev/null"
    return health([cmd], **kw)


def env_list(values: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[list[str]]:
    """KEY=value strings; the Output is secret as soon as one value is."""
    return pulumi.Output.all(*[pulumi.Output.from_input(v) for v in values.values()]).apply(
        lambda vals: [f"{k}={v}" for k, v in zip(values.keys(), vals)]
    )
