"""Snipe-IT 8: IT asset management (assets.<domain>).

- main      the upstream image (Apache + PHP + Laravel scheduler), its own MariaDB database
- configure one-shot job: our `itstack.php configure` inside the app (settings row and local admin,
            so the setup wizard is closed; SAML; LDAP; permission groups)
- ldapsync  hourly `php artisan snipeit:ldap-sync` + admin-group mapping (Snipe-IT creates no
            users on SAML login, so directory users must exist before they sign in)

SAML: Snipe-IT's SP entity id is APP_URL (app/Services/Saml.php: sp.entityId = config('app.url')),
ACS /saml/acs, SLS /saml/sls; settings live in the `settings` table, written by the job.
No Redis: Snipe-IT's redis connection has host/password/port only (config/database.php), so it
could only AUTH as Redis's `default` (admin) user; it keeps cache and sessions in files.
"""
from __future__ import annotations

import base64

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials
from components.identity.freeipa import Directory
from components.itmgmt.common import SamlSso, files, web_endpoint, job, merge_env, upload

HTTP_PORT = 80
LOCAL_ADMIN = "itstack-admin"
ADMIN_ROLE, USER_ROLE = "snipeit-admin", "snipeit-user"
ADMIN_GROUP, USER_GROUP = "snipeit-admins", "snipeit-users"
SCRIPT = "/opt/itstack/itstack.php"
# Where Traefik's requests come from: the Docker bridges and the lab's private ranges.
TRUSTED_PROXIES = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"


def entity_id(ctx: ServiceContext) -> str:
    """What Snipe-IT sends as its SP entity id: APP_URL, exactly."""
    return ctx.url


def acs_url(ctx: ServiceContext) -> str:
    return f"{ctx.url}/saml/acs"


def slo_url(ctx: ServiceContext) -> str:
    return f"{ctx.url}/saml/sls"


class SnipeIt(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        sso: SamlSso | None,
        directory: Directory | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:itmgmt:SnipeIt", "snipeit", None, opts)
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        # Laravel's APP_KEY: "base64:" + 32 bytes for AES-256-CBC. The bytes are a 32-character
        # RandomPassword (about 190 bits), which stays a secret (a RandomId's id is never secret).
        self.app_key = random.RandomPassword("snipeit-app-key", length=32, special=False, opts=ro)
        app_key = pulumi.Output.secret(self.app_key.result.apply(
            lambda k: "base64:" + base64.b64encode(k.encode()).decode()))
        self.admin_password = random.RandomPassword("snipeit-admin-password", length=32, special=False, opts=ro)
        data = ctx.volume(self, "data")

        app_env = {
            "APP_ENV": "production",
            "APP_DEBUG": "false",
            "APP_KEY": app_key,
            "APP_URL": ctx.url,
            "APP_TIMEZONE": "UTC",
            "APP_LOCALE": "en-US",
            # Traefik is the only way in; it sets X-Forwarded-Proto https. config/trustedproxy.php
            # splits the value on commas: "*" would become ['*'], a list that matches no address.
            "APP_TRUSTED_PROXIES": TRUSTED_PROXIES,
            "SECURE_COOKIES": "true",
            "DB_CONNECTION": "mysql",
            "DB_HOST": database.host,
            "DB_PORT": str(database.port),
            "DB_DATABASE": database.database,
            "DB_USERNAME": database.user,
            "DB_PASSWORD": database.password,
            "CACHE_DRIVER": "file",
            "SESSION_DRIVER": "file",
            "QUEUE_CONNECTION": "sync",  # config/queue.php reads this name, not QUEUE_DRIVER
            "IMAGE_LIB": "gd",
        }
        if smtp is not None:
            app_env.update({
                "MAIL_MAILER": "smtp",
                "MAIL_HOST": smtp.host,
                "MAIL_PORT": str(smtp.port),
                "MAIL_USERNAME": smtp.user,
                "MAIL_PASSWORD": smtp.password,
                "MAIL_ENCRYPTION": "tls",
                "MAIL_FROM_ADDR": smtp.from_address,
                "MAIL_FROM_NAME": "IT-Stack Assets",
                "MAIL_REPLYTO_ADDR": smtp.from_address,
                "MAIL_REPLYTO_NAME": "IT-Stack Assets",
            })
        else:
            app_env["MAIL_MAILER"] = "log"
        # The app reaches the database, mail, Keycloak (IdP metadata) and the directory (LDAP logins).
        nets = [database.network] + ([smtp.network] if smtp else []) + ([sso.network] if sso else [])
        network_names: list[str] = []
        if directory is not None:
            if isinstance(directory.network, str):
                network_names.append(directory.network)
            elif directory.network is not None:
                nets.append(directory.network)
        self.endpoint = web_endpoint(ctx, HTTP_PORT)
        self.container = ctx.container(
            self,
            envs=env_list(app_env),
            endpoints=[self.endpoint],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/lib/snipeit")],
            networks=nets,
            network_names=network_names,
            # /health runs `select 2 + 2` on the database and answers {"status":"ok"}.
            healthcheck=health(["curl -fsS --max-time 4 http://127.0.0.1/health | grep -q '\"ok\"'"],
                               start_period="300s", retries=30),
            wait_timeout=900,
            depends_on=[database.ready] + ([smtp.ready] if smtp else []),
        )

        mail_domain = ctx.domain
        cfg_env = {
            "ITSTACK_ADMIN_USER": LOCAL_ADMIN,
            "ITSTACK_ADMIN_EMAIL": f"{LOCAL_ADMIN}@{mail_domain}",
            "ITSTACK_ADMIN_PASSWORD": self.admin_password.result,
            "ITSTACK_ALERT_EMAIL": smtp.from_address if smtp else f"{LOCAL_ADMIN}@{mail_domain}",
            "ITSTACK_EMAIL_DOMAIN": mail_domain,
            "ITSTACK_SAML_ENABLED": "1" if sso else "0",
            "ITSTACK_LDAP_ENABLED": "1" if directory else "0",
        }
        if sso is not None:
            cfg_env["ITSTACK_SAML_IDP_METADATA_URL"] = sso.metadata_url
        ldap_env: dict = {}
        if directory is not None:
            groups = directory.groups_dn
            ldap_env = {
                "ITSTACK_LDAP_URL": directory.ldap_url,
                "ITSTACK_LDAP_BIND_DN": directory.bind_dn,
                "ITSTACK_LDAP_BIND_PASSWORD": directory.bind_password,
                "ITSTACK_LDAP_USERS_DN": directory.users_dn,
                # Only members of the directory's Snipe-IT groups are imported or may log in.
                "ITSTACK_LDAP_FILTER": (f"&(objectClass=inetOrgPerson)(|(memberOf=cn={USER_GROUP},{groups})"
                                        f"(memberOf=cn={ADMIN_GROUP},{groups}))"),
                "ITSTACK_LDAP_ADMIN_GROUP_DN": f"cn={ADMIN_GROUP},{groups}",
                "ITSTACK_ADMIN_USER": LOCAL_ADMIN,
            }
        script = upload(SCRIPT, files("snipeit/itstack.php"))
        self.configure = job(
            ctx,
            self,
            "configure",
            image_role="main",
            command=["php", SCRIPT, "configure"],
            envs=env_list(merge_env(app_env, cfg_env, ldap_env)),
            uploads=[script],
            networks=nets,
            network_names=network_names,
            depends_on=[self.container] + ([sso.client.resource] if sso else []),
        )
        self.ldapsync = None
        if directory is not None:
            self.ldapsync = ctx.container(
                self,
                role="ldapsync",
                image_role="main",
                entrypoints=["/bin/bash", "/opt/itstack/ldapsync.sh"],
                envs=env_list(merge_env(app_env, ldap_env)),
                uploads=[script, upload("/opt/itstack/ldapsync.sh", files("snipeit/ldapsync.sh"),
                                              executable=True)],
                networks=nets,
                network_names=network_names,
                # A sync finished within the last 90 minutes (the loop runs hourly).
                healthcheck=health(
                    ["test -f /tmp/itstack-last-sync",
                     'test $(( $(date +%s) - $(cat /tmp/itstack-last-sync) )) -lt 5400'],
                    interval="30s", start_period="120s", retries=10,
                ),
                depends_on=[self.configure] + ([directory.ready] if directory.ready else []),
            )
        self.register_outputs({"url": ctx.url, "admin_user": LOCAL_ADMIN, "entity_id": entity_id(ctx)})
