"""The collaboration tier: Nextcloud, Mattermost and Jitsi. `deploy(platform)` creates the
enabled ones, each with its own database (where it has one), Keycloak client, mailbox and route."""
from __future__ import annotations

import pulumi

from components.collaboration.common import keycloak_view
from components.collaboration.jitsi import ROLE_GROUPS as JITSI_ROLE_GROUPS
from components.collaboration.jitsi import Jitsi
from components.collaboration.mattermost import Mattermost, gitlab_claims
from components.collaboration.nextcloud import ROLE_GROUPS as NEXTCLOUD_ROLE_GROUPS
from components.collaboration.nextcloud import Nextcloud


def deploy(platform) -> None:
    if platform.enabled("nextcloud"):
        _nextcloud(platform)
    # A component registered earlier under the name (an existing server, a test double) stands in
    # for Mattermost: consumers use its `incoming_webhook`, and none is deployed here.
    if platform.enabled("mattermost"):
        _mattermost(platform)
    if platform.enabled("jitsi"):
        _jitsi(platform)


def _nextcloud(platform) -> None:
    ctx = platform.ctx("nextcloud")
    use = platform.integrations.use
    use("database:postgresql->nextcloud")
    database = platform.postgres.database("nextcloud", ctx.host)
    use("cache:redis->nextcloud")
    redis = platform.redis.database("nextcloud", ctx.host)
    client = None
    if use("sso:keycloak->nextcloud", client_id="nextcloud"):
        client = platform.keycloak.oidc_client(
            "nextcloud",
            redirect_uris=[f"{ctx.url}/apps/user_oidc/code", f"{ctx.url}/index.php/apps/user_oidc/code"],
            post_logout_redirect_uris=[f"{ctx.url}/"],
            web_origins=[ctx.url],
            role_groups=NEXTCLOUD_ROLE_GROUPS,
        )
    nc = Nextcloud(
        ctx,
        database=database,
        redis=redis,
        keycloak=keycloak_view(platform.keycloak, ctx),
        client_id="nextcloud",
        client_secret=client.client_secret if client else None,
        smtp=platform.smtp("nextcloud", ctx.host),
    )
    platform.components["nextcloud"] = nc
    platform.routes.append(ctx.route(nc.endpoint))
    platform.outputs["nextcloud"] = {
        "url": ctx.url,
        "client_id": "nextcloud" if client else None,
        "admin_user": "itstack-admin",
        "oidc_callback": f"{ctx.url}/apps/user_oidc/code",
    }


def _mattermost(platform) -> None:
    ctx = platform.ctx("mattermost")
    use = platform.integrations.use
    use("database:postgresql->mattermost")
    database = platform.postgres.database("mattermost", ctx.host)
    client = None
    if use("sso:keycloak->mattermost", client_id="mattermost"):
        client = platform.keycloak.oidc_client(
            "mattermost",
            # Mattermost sends this one redirect URI for sign-up and log-in (app/oauth.go).
            redirect_uris=[f"{ctx.url}/signup/gitlab/complete"],
            web_origins=[ctx.url],
        )
        gitlab_claims(platform.keycloak, client.resource,
                      pulumi.ResourceOptions(parent=platform.keycloak, provider=platform.keycloak.provider))
    mm = Mattermost(
        ctx,
        database=database,
        keycloak_view=keycloak_view(platform.keycloak, ctx),
        client_id="mattermost",
        client_secret=client.client_secret if client else None,
        smtp=platform.smtp("mattermost", ctx.host),
    )
    platform.components["mattermost"] = mm
    platform.routes.append(ctx.route(mm.endpoint))
    platform.outputs["mattermost"] = {
        "url": ctx.url,
        "client_id": "mattermost" if client else None,
        "sso_button": "GitLab",
        "admin_user": "itstack-admin",
    }


def _jitsi(platform) -> None:
    ctx = platform.ctx("jitsi")
    client = None
    if platform.integrations.use("sso:keycloak->jitsi", client_id="jitsi"):
        client = platform.keycloak.oidc_client(
            "jitsi",
            redirect_uris=[f"{ctx.url}/oidc/callback"],
            web_origins=[ctx.url],
            role_groups=JITSI_ROLE_GROUPS,
        )
    jitsi = Jitsi(
        ctx,
        keycloak=keycloak_view(platform.keycloak, ctx),
        client_id="jitsi",
        client_secret=client.client_secret if client else None,
    )
    platform.components["jitsi"] = jitsi
    platform.routes.append(ctx.route(jitsi.web_endpoint))
    platform.outputs["jitsi"] = {
        "url": ctx.url,
        "client_id": "jitsi" if client else None,
        "media": {"host": ctx.host.address, "port": jitsi.udp_port, "protocol": "udp"},
    }
