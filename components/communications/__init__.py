"""The communications tier: iRedMail (mail for every service), Zammad (help desk) and FreePBX (phones)."""
from __future__ import annotations

from components.communications.freepbx import ADMIN_USER as FREEPBX_ADMIN_USER
from components.communications.freepbx import FreePBX
from components.communications.iredmail import IRedMail
from components.communications.zammad import ADMIN_GROUP as ZAMMAD_ADMIN_GROUP
from components.communications.zammad import AGENT_GROUP as ZAMMAD_AGENT_GROUP
from components.communications.zammad import Zammad


def deploy_mail(platform) -> None:
    """Creates iRedMail (sets platform.mail) before every other application tier."""
    if not platform.enabled("iredmail"):
        return
    ctx = platform.ctx("iredmail")
    mail = IRedMail(ctx)
    platform.mail = mail
    platform.components["iredmail"] = mail
    platform.routes.append(ctx.route(mail.web))
    host, port = mail.submission.admin_address
    platform.outputs["iredmail"] = {
        "url": ctx.url,
        "domain": mail.domain,
        "postmaster": mail.postmaster,
        "smtp": {"host": host, "port": mail.smtp.admin_address[1]},
        "submission": {"host": host, "port": port, "security": "STARTTLS"},
        "imaps": {"host": host, "port": mail.imaps.admin_address[1]},
    }


def deploy(platform) -> None:
    """Zammad and FreePBX."""
    if platform.enabled("zammad"):
        _zammad(platform)
    if platform.enabled("freepbx"):
        _freepbx(platform)


def _zammad(platform) -> None:
    ctx = platform.ctx("zammad")
    use = platform.integrations.use
    use("database:postgresql->zammad")
    database = platform.postgres.database("zammad", ctx.host)
    use("cache:redis->zammad")
    redis = platform.redis.database("zammad", ctx.host)
    use("search:elasticsearch->zammad")
    search = platform.elasticsearch.credentials(ctx.host)
    oidc = None
    if use("sso:keycloak->zammad", client_id="zammad"):
        # Zammad 6.5 sends no client secret: a public client with PKCE (S256), as its docs ask.
        oidc = platform.keycloak.oidc_client(
            "zammad",
            redirect_uris=[f"{ctx.url}/auth/openid_connect/callback"],
            post_logout_redirect_uris=[f"{ctx.url}/"],
            web_origins=[ctx.url],
            role_groups={ZAMMAD_ADMIN_GROUP: ZAMMAD_ADMIN_GROUP, ZAMMAD_AGENT_GROUP: ZAMMAD_AGENT_GROUP},
            public=True,
        )
    directory = None
    if use("directory:freeipa->zammad"):
        directory = platform.freeipa.directory_for(ctx.host)
    smtp = platform.smtp("zammad", ctx.host)
    zammad = Zammad(ctx, database=database, redis=redis, search=search, oidc=oidc, directory=directory, smtp=smtp)
    platform.components["zammad"] = zammad
    platform.routes.append(ctx.route(zammad.endpoint))
    platform.outputs["zammad"] = {
        "url": ctx.url,
        "client_id": oidc.client_id if oidc else None,
        "admin_email": zammad.admin_email,
        "role_groups": {ZAMMAD_ADMIN_GROUP: "Admin", ZAMMAD_AGENT_GROUP: "Agent"},
    }


def _freepbx(platform) -> None:
    ctx = platform.ctx("freepbx")
    platform.integrations.use("database:mariadb->freepbx")
    database = platform.mariadb.database("freepbx", ctx.host)
    directory = None
    if platform.integrations.use("directory:freeipa->freepbx"):
        directory = platform.freeipa.directory_for(ctx.host)
    smtp = platform.smtp("freepbx", ctx.host)
    pbx = FreePBX(ctx, database=database, directory=directory, smtp=smtp)
    platform.components["freepbx"] = pbx
    platform.routes.append(ctx.route(pbx.endpoint))
    out = {
        "url": ctx.url,
        "admin_url": f"{ctx.url}/admin/config.php",
        "admin_user": FREEPBX_ADMIN_USER,
        "sip": pbx.sip,
        "rtp_ports": f"{pbx.rtp_start}-{pbx.rtp_end}/udp",
    }
    if pbx.directory:
        out["directory"] = pbx.directory
    platform.outputs["freepbx"] = out
