"""The infrastructure tier: monitoring (Zabbix) and logging (Graylog). Traefik, the edge, is built
by stack.py after every tier because it routes to all of them.

`deploy(platform)` runs last among the application tiers: Zabbix's monitoring of a service is
declared after (and depends on) that service, so the seed's "Phase 4b: Zabbix (needs all services
running to monitor them)" falls out of the graph.
"""
from __future__ import annotations

import pulumi

from components.base import Endpoint
from components.infrastructure.graylog import Graylog
from components.infrastructure.zabbix import MonitorTarget, Zabbix, ZabbixSso

# Keycloak client roles released in the SAML `Role` attribute, granted to FreeIPA groups, and
# what Zabbix makes of them (role, user groups). `ipausers` holds every FreeIPA user.
ZABBIX_ROLE_GROUPS = {"zabbix-admin": "admins", "zabbix-user": "ipausers"}
ZABBIX_PROVISION = {
    "zabbix-admin": ("Super admin role", ("Zabbix administrators",)),
    "zabbix-user": ("User role", ("IT-Stack operators",)),
}
MATTERMOST_CHANNEL = "ops-alerts"


def monitor_targets(platform) -> list[MonitorTarget]:
    """Every deployed service with something to check: its web route (HTTP) or, for services
    without a route, the endpoint its component exposes (TCP)."""
    targets: dict[str, MonitorTarget] = {}

    def target(service: str) -> MonitorTarget:
        if service not in targets:
            comp = platform.components.get(service)
            targets[service] = MonitorTarget(service, depends_on=[comp] if comp is not None else [])
        return targets[service]

    for route in platform.routes:
        if route.service == "zabbix":
            continue
        t = target(route.service)
        t.fqdn = route.fqdn
        t.web.append((f"{route.service} web", route.endpoint, route.scheme))
    for service, comp in platform.components.items():
        if service == "zabbix" or service in targets:
            continue
        endpoint = getattr(comp, "endpoint", None)
        if isinstance(endpoint, Endpoint):
            target(service).tcp.append((f"{service} port {endpoint.port}", endpoint))
    if platform.freeipa is not None and platform.freeipa.container is None:
        platform.integrations.skip("monitoring:zabbix->freeipa",
                                   "identity.mode external: no directory container here; the site monitors its own")
    return [t for t in targets.values() if platform.integrations.use(
        f"monitoring:zabbix->{t.service}",
        checks=", ".join((["HTTP web scenario"] if t.web else []) + (["TCP check"] if t.tcp else [])))]


def _deploy_graylog(platform) -> Graylog:
    ctx = platform.ctx("graylog")
    directory = None
    if platform.integrations.use("directory:freeipa->graylog"):
        directory = platform.freeipa.directory_for(ctx.host)
    smtp = platform.smtp("graylog", ctx.host)
    graylog = Graylog(ctx, directory=directory, smtp=smtp)
    platform.components["graylog"] = graylog
    platform.routes.append(ctx.route(graylog.endpoint))
    platform.outputs["graylog"] = {
        "url": graylog.url,
        "gelf_tcp": graylog.gelf_address(),
        "syslog_tcp": graylog.syslog_address(),
        "inputs": ["GELF UDP/TCP 12201", "Syslog UDP/TCP 1514"],
    }
    return graylog


def _deploy_zabbix(platform) -> Zabbix:
    ctx = platform.ctx("zabbix")
    platform.integrations.use("database:postgresql->zabbix")
    database = platform.postgres.database("zabbix", ctx.host)
    sso = None
    if platform.integrations.use("sso:keycloak->zabbix", client_id=ctx.url):
        # Zabbix's ACS and SLS endpoints (Zabbix manual, Users > Authentication > SAML).
        client = platform.keycloak.saml_client(
            ctx.url,
            acs_url=f"{ctx.url}/index_sso.php?acs",
            slo_url=f"{ctx.url}/index_sso.php?sls",
            role_groups=ZABBIX_ROLE_GROUPS,
        )
        sso = ZabbixSso(
            sp_entity_id=client.entity_id,
            idp_entity_id=client.idp_entity_id,
            sso_url=client.idp_sso_url,
            idp_certificate_pem=platform.keycloak.signing_certificate,
            provision=ZABBIX_PROVISION,
            ready=client.resource,
        )
    smtp = platform.smtp("zabbix", ctx.host)
    webhook = None
    mattermost = platform.components.get("mattermost")
    make_hook = getattr(mattermost, "incoming_webhook", None)
    if callable(make_hook) and platform.integrations.use("notifications:zabbix->mattermost",
                                                         channel=f"#{MATTERMOST_CHANNEL}"):
        webhook = make_hook("zabbix", channel=MATTERMOST_CHANNEL)
    targets = monitor_targets(platform)
    zabbix = Zabbix(ctx, database, sso=sso, smtp=smtp, targets=targets,
                    mattermost_webhook_url=webhook, mattermost_channel=MATTERMOST_CHANNEL if webhook else None)
    platform.components["zabbix"] = zabbix
    platform.routes.append(ctx.route(zabbix.web_endpoint))
    platform.outputs["zabbix"] = {
        "url": zabbix.url,
        "saml_entity_id": sso.sp_entity_id if sso else None,
        "monitored": sorted(t.service for t in targets),
    }
    return zabbix


def deploy(platform) -> None:
    # Graylog first: Zabbix then watches it like every other service.
    if platform.enabled("graylog"):
        _deploy_graylog(platform)
    if platform.enabled("zabbix"):
        _deploy_zabbix(platform)
