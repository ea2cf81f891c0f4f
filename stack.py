"""The composition root: tiers wired by passing outputs, so order falls out of the graph.

`build(settings)` declares every resource of a stack and returns the `Platform`; __main__.py
exports its contract. No phase numbers, no sleeps: a service that needs PostgreSQL receives
`postgres.database(...)`, and Pulumi orders the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import pulumi

import contract
from components.base import HostRuntime, Route, ServiceContext
from components.catalog import SERVICES
from components.data.elasticsearch import Elasticsearch
from components.data.mariadb import MariaDB
from components.data.postgresql import PostgreSQL
from components.data.redis import Redis
from components.identity.freeipa import FreeIPA
from components.identity.keycloak import Keycloak
from components.infrastructure.traefik import Traefik
from integrations.registry import Integrations, Switches
from settings import Settings

CONTRACT_VERSION = contract.VERSION  # the one schema: contract/__init__.py


@dataclass
class Platform:
    """Everything a service component may consume, built tier by tier."""

    settings: Settings
    hosts: dict[str, HostRuntime]
    integrations: Integrations
    postgres: PostgreSQL | None = None
    mariadb: MariaDB | None = None
    redis: Redis | None = None
    elasticsearch: Elasticsearch | None = None
    freeipa: FreeIPA | None = None
    keycloak: Keycloak | None = None
    traefik: Traefik | None = None
    # The mail server component (iRedMail); it must offer `account(service, for_host)`.
    mail: pulumi.ComponentResource | None = None
    routes: list[Route] = field(default_factory=list)
    # Service name -> its component, for the services deployed so far.
    components: dict[str, pulumi.ComponentResource] = field(default_factory=dict)
    # Service name -> dict of outputs for the stack contract (URLs, client ids, ...).
    outputs: dict[str, dict] = field(default_factory=dict)

    def ctx(self, service: str) -> ServiceContext:
        return ServiceContext(self.settings, service, self.hosts[self.settings.placement[service]], self.hosts)

    def enabled(self, service: str) -> bool:
        return self.settings.enabled(service)

    def smtp(self, service: str, for_host: HostRuntime):
        """The service's own SMTP submission account on the stack's mail server, or None when
        mail is disabled (or this email integration is switched off)."""
        if self.mail is None or not self.integrations.use(f"email:iredmail->{service}"):
            return None
        return self.mail.account(service, for_host)


# Application tiers register a deploy function here (components/<tier>/__init__.py), called
# in this order after the data and identity tiers and before the edge, which needs their routes.
# MAIL_TIER runs first of them: every other service sends mail through it.
MAIL_TIER: list[Callable[[Platform], None]] = []
APP_TIERS: list[Callable[[Platform], None]] = []


def _redis_consumers(settings: Settings) -> list[str]:
    return [s for s in settings.services if SERVICES[s].redis_db is not None]


def build(settings: Settings, overrides: Mapping[str, type] | None = None) -> Platform:
    """`overrides`: service -> component class to use instead of the default, for the engine lane
    that deploys these tiers without the keycloak and postgresql plugins (tests/engine/tiers_program)."""
    kinds = {"postgresql": PostgreSQL, "keycloak": Keycloak, **(overrides or {})}
    hosts = {h.name: HostRuntime(settings, h) for h in settings.hosts}
    p = Platform(settings=settings, hosts=hosts, integrations=Integrations(
        settings.services, Switches(settings.integration_kinds, settings.integration_ids)))

    # Data tier.
    if p.enabled("postgresql"):
        p.postgres = kinds["postgresql"](p.ctx("postgresql"))
        p.components["postgresql"] = p.postgres
    if p.enabled("mariadb"):
        p.mariadb = MariaDB(p.ctx("mariadb"))
        p.components["mariadb"] = p.mariadb
    if p.enabled("redis"):
        p.redis = Redis(p.ctx("redis"), consumers=_redis_consumers(settings))
        p.components["redis"] = p.redis
    if p.enabled("elasticsearch"):
        p.elasticsearch = Elasticsearch(p.ctx("elasticsearch"))
        p.components["elasticsearch"] = p.elasticsearch

    # Identity tier.
    if p.enabled("freeipa"):
        in_container = settings.identity.mode == "container"
        p.freeipa = FreeIPA(settings, p.ctx("freeipa") if in_container else None)
        p.components["freeipa"] = p.freeipa
    if p.enabled("keycloak"):
        kctx = p.ctx("keycloak")
        # Neither can be switched off (settings refuses it): Keycloak needs its database, and its
        # users come from the directory.
        p.integrations.use("database:postgresql->keycloak")
        p.integrations.use("directory:freeipa->keycloak", ldap_url=p.freeipa.directory.ldap_url)
        p.keycloak = kinds["keycloak"](
            kctx,
            database=p.postgres.database("keycloak", kctx.host),
            directory=p.freeipa.directory_for(kctx.host),
        )
        p.components["keycloak"] = p.keycloak
        p.routes.append(kctx.route(p.keycloak.endpoint))
        p.outputs["keycloak"] = {
            "url": p.keycloak.public_url,
            "realm": p.keycloak.realm_name,
            "issuer": p.keycloak.issuer,
        }

    # Application tiers: mail first, since the others send through it.
    for deploy in MAIL_TIER + APP_TIERS:
        deploy(p)

    # Edge: last, because it routes to everything above.
    if p.enabled("traefik"):
        graylog = p.components.get("graylog")
        ship_logs = graylog is not None and p.integrations.use("logging:traefik->graylog", stream="web-access")
        # Only the routes whose ingress integration is on reach Traefik's configuration.
        routed = [r for r in p.routes if p.integrations.use(f"ingress:traefik->{r.service}", url=f"https://{r.fqdn}")]
        p.traefik = Traefik(p.ctx("traefik"), routed, gelf_address=graylog.gelf_address() if ship_logs else None)
        p.components["traefik"] = p.traefik
    return p


def export_contract(p: Platform) -> None:
    """Stack outputs for other teams: contract.export() allows only the keys of the schema in
    contract/__init__.py (docs/outputs.md is generated from it) and makes its secrets secret."""
    s = p.settings
    out = {
        "contract_version": contract.VERSION,
        "domain": s.domain,
        "services": list(s.services),
        "placement": dict(s.placement),
        "urls": {r.service: f"https://{r.fqdn}" for r in p.routes
                 if p.integrations.state(f"ingress:traefik->{r.service}")["state"] != "off"},
        "integrations": p.integrations.states(),
        "unpinned_images": sorted(f"{svc}/{role}: {ref.ref}" for svc, roles in s.images.items()
                                  for role, ref in roles.items() if not ref.digest),
    }
    if p.keycloak:
        out["identity"] = {**p.outputs["keycloak"], "admin_url": p.keycloak.admin_url}
        out["keycloak_admin_password"] = p.keycloak.admin_password.result
    if p.freeipa:
        d = p.freeipa.directory
        out["directory"] = {"ldap_url": d.ldap_url, "base_dn": d.base_dn, "users_dn": d.users_dn,
                            "groups_dn": d.groups_dn, "bind_dn": d.bind_dn, "mode": s.identity.mode}
    databases = {}
    if p.postgres:
        host, port = p.postgres.endpoint.admin_address
        databases["postgresql"] = {"host": host, "port": port, "engine": "postgresql"}
        out["postgresql_admin_password"] = p.postgres.admin_password.result
    if p.mariadb:
        host, port = p.mariadb.endpoint.admin_address
        databases["mariadb"] = {"host": host, "port": port, "engine": "mariadb"}
        out["mariadb_root_password"] = p.mariadb.root_password.result
    out["database_endpoints"] = databases
    if p.traefik:
        out["edge"] = {"http_port": p.traefik.http_port, "https_port": p.traefik.https_port,
                       "tls_mode": s.tls.mode, "dashboard_url": f"https://proxy.{s.domain}"}
        out["traefik_dashboard_password"] = p.traefik.dashboard_password.result
        if p.traefik.ca_cert_pem is not None:
            out["tls_ca_certificate"] = p.traefik.ca_cert_pem
    out["apps"] = {k: v for k, v in p.outputs.items() if k != "keycloak"}
    # Break-glass local administrators of the apps that have one.
    out["app_admin_passwords"] = {name: c.admin_password.result for name, c in p.components.items()
                                  if name not in ("keycloak", "postgresql", "redis", "freeipa")
                                  and hasattr(c, "admin_password")}
    contract.export(out)
