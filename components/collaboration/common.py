"""What the collaboration services share: how an app's server reaches Keycloak.

Browsers use Keycloak's public URL (KC_HOSTNAME, through Traefik). App servers use the
back channel: Keycloak's container on the identity network when it shares the host, else the
host address and published port. Keycloak runs with KC_HOSTNAME_BACKCHANNEL_DYNAMIC=true, so a
discovery document fetched over the back channel names back-channel token/userinfo/jwks
endpoints while the issuer and the authorization endpoint stay on the public URL.
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi_docker as docker

from components.base import ServiceContext


@dataclass(frozen=True)
class KeycloakView:
    """Keycloak as one consumer sees it."""

    public_realm_url: str  # https://sso.<domain>/realms/<realm>: the issuer, for browsers
    internal_realm_url: str  # http://<container or host>:<port>/realms/<realm>: for app servers
    network: docker.Network | None  # identity network to join when on the same host

    @property
    def discovery_url(self) -> str:
        return f"{self.internal_realm_url}/.well-known/openid-configuration"

    @property
    def auth_endpoint(self) -> str:
        return f"{self.public_realm_url}/protocol/openid-connect/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.internal_realm_url}/protocol/openid-connect/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.internal_realm_url}/protocol/openid-connect/userinfo"


def keycloak_view(keycloak, ctx: ServiceContext) -> KeycloakView:
    host, port = keycloak.endpoint.address_for(ctx.host)
    return KeycloakView(
        public_realm_url=keycloak.issuer,
        internal_realm_url=f"http://{host}:{port}/realms/{keycloak.realm_name}",
        network=keycloak.endpoint.network_for(ctx.host),
    )
