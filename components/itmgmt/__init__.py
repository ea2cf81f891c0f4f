"""The itmgmt tier: Taiga (projects), Snipe-IT (assets), GLPI (ITSM). `deploy(platform)` creates
the enabled ones with their own database, SSO client, mail account and route."""
from __future__ import annotations

from components.itmgmt import glpi as glpi_mod
from components.itmgmt import snipeit as snipeit_mod
from components.itmgmt import taiga as taiga_mod
from components.itmgmt.common import keycloak_backchannel, saml_sso


def _sso_on(platform, service: str) -> bool:
    return platform.integrations.use(f"sso:keycloak->{service}", client_id=service)


def _directory(platform, service: str, ctx):
    if not platform.integrations.use(f"directory:freeipa->{service}"):
        return None
    return platform.freeipa.directory_for(ctx.host)


def _database(platform, service: str, ctx, engine: str):
    platform.integrations.use(f"database:{engine}->{service}")
    if engine == "postgresql":
        return platform.postgres.database(service, ctx.host)
    return platform.mariadb.database(service, ctx.host)


def deploy_taiga(platform) -> None:
    ctx = platform.ctx("taiga")
    database = _database(platform, "taiga", ctx, "postgresql")
    sso = None
    if _sso_on(platform, "taiga"):
        client = platform.keycloak.oidc_client(
            "taiga",
            redirect_uris=[taiga_mod.redirect_uri(ctx)],
            web_origins=[ctx.url],
            post_logout_redirect_uris=[f"{ctx.url}/"],
            role_groups={taiga_mod.USER_ROLE: taiga_mod.USER_GROUP, taiga_mod.ADMIN_ROLE: taiga_mod.ADMIN_GROUP},
        )
        realm_url, network = keycloak_backchannel(platform, ctx)
        sso = taiga_mod.TaigaSso(client=client, backchannel_realm_url=realm_url, network=network)
    smtp = platform.smtp("taiga", ctx.host)
    taiga = taiga_mod.Taiga(ctx, database=database, sso=sso, smtp=smtp)
    platform.components["taiga"] = taiga
    platform.routes.append(ctx.route(taiga.endpoint))
    platform.outputs["taiga"] = {
        "url": ctx.url,
        "api_url": f"{ctx.url}/api/v1/",
        "client_id": sso.client.client_id if sso else None,
        "admin_user": taiga_mod.LOCAL_ADMIN,
        "sso": "oidc" if sso else None,
    }


def deploy_snipeit(platform) -> None:
    ctx = platform.ctx("snipeit")
    database = _database(platform, "snipeit", ctx, "mariadb")
    sso = None
    if _sso_on(platform, "snipeit"):
        client = platform.keycloak.saml_client(
            snipeit_mod.entity_id(ctx),
            acs_url=snipeit_mod.acs_url(ctx),
            slo_url=snipeit_mod.slo_url(ctx),
            role_groups={snipeit_mod.ADMIN_ROLE: snipeit_mod.ADMIN_GROUP,
                         snipeit_mod.USER_ROLE: snipeit_mod.USER_GROUP},
        )
        sso = saml_sso(platform, ctx, client)
    directory = _directory(platform, "snipeit", ctx)
    smtp = platform.smtp("snipeit", ctx.host)
    snipeit = snipeit_mod.SnipeIt(ctx, database=database, sso=sso, directory=directory, smtp=smtp)
    platform.components["snipeit"] = snipeit
    platform.routes.append(ctx.route(snipeit.endpoint))
    platform.outputs["snipeit"] = {
        "url": ctx.url,
        "api_url": f"{ctx.url}/api/v1",
        "client_id": sso.client.entity_id if sso else None,
        "admin_user": snipeit_mod.LOCAL_ADMIN,
        "sso": "saml" if sso else None,
    }


def deploy_glpi(platform) -> None:
    ctx = platform.ctx("glpi")
    database = _database(platform, "glpi", ctx, "mariadb")
    sso = None
    if _sso_on(platform, "glpi"):
        client = platform.keycloak.saml_client(
            glpi_mod.entity_id(ctx),
            acs_url=glpi_mod.acs_url(ctx),
            role_groups={glpi_mod.ADMIN_ROLE: glpi_mod.ADMIN_GROUP, glpi_mod.TECH_ROLE: glpi_mod.TECH_GROUP},
        )
        glpi_mod.claim_mappers(platform.keycloak, client.resource)
        sso = saml_sso(platform, ctx, client)
    directory = _directory(platform, "glpi", ctx)
    smtp = platform.smtp("glpi", ctx.host)
    glpi = glpi_mod.Glpi(ctx, database=database, sso=sso, directory=directory, smtp=smtp)
    platform.components["glpi"] = glpi
    platform.routes.append(ctx.route(glpi.endpoint))
    platform.outputs["glpi"] = {
        "url": ctx.url,
        "api_url": f"{ctx.url}/api.php",
        "client_id": sso.client.entity_id if sso else None,
        "admin_user": glpi_mod.LOCAL_ADMIN,
        "sso": "saml" if sso else None,
    }


def deploy(platform) -> None:
    if platform.enabled("taiga"):
        deploy_taiga(platform)
    if platform.enabled("snipeit"):
        deploy_snipeit(platform)
    if platform.enabled("glpi"):
        deploy_glpi(platform)
