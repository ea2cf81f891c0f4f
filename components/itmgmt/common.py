"""Helpers shared by the IT-management services (Taiga, Snipe-IT, GLPI).

- `role_image`: the image of a container role, from the settings when the catalogue knows the
  role, else a pinned constant (roles the catalogue does not list yet, e.g. Taiga's RabbitMQ).
- `job`: a one-shot container (attach, must_run false) that configures an app after it is
  healthy, the way FreeIPA's bind-account job does; it re-runs whenever its inputs change.
- `saml_sso`: a SAML client with its IdP metadata URL over the back channel.
- `keycloak_backchannel`: how a container on a host reaches Keycloak without going through the
  public name (no TLS trust or DNS needed inside the container; KC_HOSTNAME_BACKCHANNEL_DYNAMIC).
- `files`: the text of a file shipped with this package (configuration scripts and plugins we
  wrote for the apps), for container uploads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.base import Endpoint, ServiceContext
from components.identity.keycloak import SamlClient

FILES = Path(__file__).resolve().parent / "files"


def files(relative: str) -> str:
    return (FILES / relative).read_text()


# Host ports when an entry is published (several hosts): the three apps share lab-mgmt1 and all
# listen on container port 80, so each gets its own port on the host's address.
HOST_PORTS = {"taiga": 8110, "snipeit": 8120, "glpi": 8130}


def web_endpoint(ctx: ServiceContext, port: int, role: str = "main") -> Endpoint:
    """The service's web entry; when published, on its own host port (not the container's)."""
    return ctx.endpoint(port, role=role, host_port=HOST_PORTS[ctx.service])


@dataclass
class SamlSso:
    """A SAML app's Keycloak client, and the IdP metadata as the app's host reaches Keycloak
    directly (the back channel, for the signing certificate)."""

    client: SamlClient
    metadata_url: str
    network: docker.Network | None


def saml_sso(platform, ctx: ServiceContext, client: SamlClient) -> SamlSso:
    realm_url, network = keycloak_backchannel(platform, ctx)
    return SamlSso(client=client, metadata_url=f"{realm_url}/protocol/saml/descriptor", network=network)


def keycloak_backchannel(platform, ctx: ServiceContext) -> tuple[str | None, docker.Network | None]:
    """Base URL of the realm as the service's host reaches Keycloak directly, and the network to join."""
    kc = platform.keycloak
    if kc is None:
        return None, None
    host, port = kc.endpoint.address_for(ctx.host)
    return f"http://{host}:{port}/realms/{kc.realm_name}", kc.endpoint.network_for(ctx.host)


def job(
    ctx: ServiceContext,
    parent: pulumi.Resource,
    name: str,
    *,
    image_role: str,
    command: Sequence[pulumi.Input[str]],
    entrypoints: Sequence[str] | None = None,
    envs: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
    uploads: Sequence[docker.ContainerUploadArgs] = (),
    volumes: Sequence[docker.ContainerVolumeArgs] = (),
    networks: Sequence[docker.Network | None] = (),
    network_names: Sequence[str] = (),
    depends_on: Sequence[pulumi.Resource] = (),
    user: str | None = None,
) -> docker.Container:
    """A one-shot configuration job: runs to completion at create (attach=True), is replaced (so
    runs again) when its command, environment or uploads change. Env and uploads are secret."""
    image = ctx.image(parent, image_role)
    nets = [ctx.host.network(ctx.tier)] + [n for n in networks if n is not None]
    seen: set[int] = set()
    advanced = []
    for n in nets:
        if id(n) not in seen:
            seen.add(id(n))
            advanced.append(docker.ContainerNetworksAdvancedArgs(name=n.name))
    advanced += [docker.ContainerNetworksAdvancedArgs(name=n) for n in network_names]
    return docker.Container(
        f"{ctx.service}-{name}",
        name=f"{ctx.container_name()}-{name}",
        image=image.image_id,
        entrypoints=list(entrypoints) if entrypoints else None,
        command=list(command) if command else None,
        envs=envs,
        uploads=list(uploads),
        volumes=list(volumes),
        user=user,
        attach=True,
        must_run=False,
        logs=True,
        networks_advanced=advanced,
        labels=[
            docker.ContainerLabelArgs(label="org.itstack.service", value=ctx.service),
            docker.ContainerLabelArgs(label="org.itstack.role", value=name),
            docker.ContainerLabelArgs(label="org.itstack.stack", value=ctx.settings.stack),
        ],
        opts=ctx.opts(parent, depends_on=list(depends_on), additional_secret_outputs=["envs", "uploads"]),
    )


def upload(path: str, content: pulumi.Input[str], executable: bool = False) -> docker.ContainerUploadArgs:
    """A file copied into the container before it starts. Stored as a secret like every upload
    of the stack (some hold credentials; one rule keeps the check simple)."""
    return docker.ContainerUploadArgs(file=path, content=pulumi.Output.secret(content), executable=executable)


def merge_env(*parts: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    out: dict[str, pulumi.Input[str]] = {}
    for p in parts:
        out.update(p)
    return out
