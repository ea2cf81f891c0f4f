"""Nextcloud (official image, Apache variant): files and calendars on PostgreSQL and Redis,
single sign-on through Keycloak with the `user_oidc` app.

How the official image is driven (nextcloud/docker, 33/apache/entrypoint.sh and config/*.php):
- First start installs with POSTGRES_HOST/DB/USER/PASSWORD and NEXTCLOUD_ADMIN_USER/PASSWORD,
  copying /usr/src/nextcloud/config/*.php into the empty config directory of the volume.
- SMTP_HOST, SMTP_PORT, SMTP_SECURE, SMTP_NAME, SMTP_PASSWORD, MAIL_FROM_ADDRESS, MAIL_DOMAIN
  feed config/smtp.config.php; OVERWRITEPROTOCOL, OVERWRITECLIURL, TRUSTED_PROXIES feed
  config/reverse-proxy.config.php.
- The image's Redis variables (REDIS_HOST, REDIS_HOST_PORT, REDIS_HOST_USER,
  REDIS_HOST_PASSWORD) have no logical database index, so they stay unset; our own
  config/zz-itstack.config.php (read after the image's files) configures Redis with the ACL
  user and the catalogue's database, and a PHP ini keeps sessions in that database too.
- Executable *.sh files in /docker-entrypoint-hooks.d/before-starting/ run on every start as
  www-data (`su -p www-data -s /bin/sh -c <file>`): the docker provider writes uploads root-owned,
  so the hook needs mode 0755 (HOOK_MODE; `executable=True` gives 0744, which www-data cannot run
  and the entrypoint exits with "Failed at executing script"). Ours copies the config file into the volume and configures user_oidc with `occ`, so a
  changed client secret or mapping is applied on the next container replacement.
"""
from __future__ import annotations

import json

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.collaboration.common import KeycloakView
from components.data.credentials import DatabaseCredentials, RedisCredentials, SmtpCredentials

HTTP_PORT = 80
ADMIN_USER = "itstack-admin"
PROVIDER_ID = "keycloak"
# Keycloak client roles, each granted to a FreeIPA group; user_oidc provisions them as Nextcloud
# groups of the same name, and `admin` IS Nextcloud's administrators group.
ROLE_GROUPS = {"admin": "admins", "users": "ipausers"}
CONFIG_SRC = "/usr/src/nextcloud/config/zz-itstack.config.php"
CONFIG_DST = "/var/www/html/config/zz-itstack.config.php"
SESSION_INI = "/usr/local/etc/php/conf.d/zz-itstack-redis-session.ini"
HOOK = "/docker-entrypoint-hooks.d/before-starting/10-itstack.sh"
# Root-owned upload run by www-data: read and execute for others.
HOOK_MODE = "0755"
# Addresses Traefik may come from: the tier networks' bridges and the hosts' LAN.
TRUSTED_PROXIES = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"


def _php(value) -> str:
    """A PHP literal for a str, int, bool or list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "array(" + ", ".join(_php(v) for v in value) + ")"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def config_php(fqdn: str, redis: RedisCredentials, smtp_unverified: bool = False) -> str:
    """config/zz-itstack.config.php. No secret in it: the Redis password is read from the
    environment (as the image's own redis.config.php does)."""
    return f"""<?php
// Written by itstack (components/collaboration/nextcloud.py). Read after the image's files,
// so these keys win. Secrets come from the environment, never from this file.
$CONFIG = array(
  'trusted_domains' => {_php([fqdn, 'localhost'])},
  'memcache.local' => '\\OC\\Memcache\\APCu',
  'memcache.distributed' => '\\OC\\Memcache\\Redis',
  'memcache.locking' => '\\OC\\Memcache\\Redis',
  'redis' => array(
    'host' => {_php(redis.host)},
    'port' => {_php(redis.port)},
    'user' => {_php(redis.user)},
    'password' => (string) getenv('ITSTACK_REDIS_PASSWORD'),
    'dbindex' => {_php(redis.db)},
  ),
  // Keycloak's back channel is on a private address: let the HTTP client reach it.
  'allow_local_remote_servers' => true,
  'default_phone_region' => 'US',
  'maintenance_window_start' => 1,
""" + (
        # iRedMail's certificate is self-signed and names another host: STARTTLS still encrypts.
        "  'mail_smtpstreamoptions' => array('ssl' => array('verify_peer' => false, 'verify_peer_name' => false,"
        " 'allow_self_signed' => true)),\n" if smtp_unverified else ""
    ) + ");\n"


def session_ini(redis: RedisCredentials) -> pulumi.Output[str]:
    """PHP sessions in the same Redis database, as the ACL user (holds the password: secret)."""
    return pulumi.Output.secret(redis.password).apply(
        lambda pw: "session.save_handler = redis\n"
        f'session.save_path = "tcp://{redis.host}:{redis.port}?auth[]={redis.user}&auth[]={pw}&database={redis.db}"\n'
        "redis.session.locking_enabled = 1\n"
        "redis.session.lock_retries = -1\n"
        "redis.session.lock_wait_time = 10000\n"
    )


def hook_script(client_id: str, discovery_url: str) -> str:
    """before-starting hook: idempotent `occ` calls; the client secret comes from the env."""
    whitelist = "^(" + "|".join(sorted(ROLE_GROUPS)) + ")$"
    provider = [
        "user_oidc:provider", PROVIDER_ID,
        f"--clientid={client_id}",
        "--clientsecret-env=ITSTACK_OIDC_CLIENT_SECRET",
        f"--discoveryuri={discovery_url}",
        "--scope=openid email profile",
        "--unique-uid=0",
        "--mapping-uid=preferred_username",
        "--mapping-display-name=name",
        "--mapping-email=email",
        "--mapping-groups=roles",
        "--group-provisioning=1",
        f"--group-whitelist-regex={whitelist}",
        "--group-restrict-login-to-whitelist=1",
        "--check-bearer=0",
        "--send-id-token-hint=1",
    ]
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in provider)
    return f"""#!/bin/sh
# Written by itstack (components/collaboration/nextcloud.py): runs as www-data on every start.
set -eu
occ() {{ php /var/www/html/occ "$@"; }}
cp {CONFIG_SRC} {CONFIG_DST}
occ app:getpath user_oidc >/dev/null 2>&1 || occ app:install --keep-disabled user_oidc
occ app:enable user_oidc
# Keep the local login form beside the Keycloak button (break-glass admin).
occ config:app:set user_oidc allow_multiple_user_backends --value=1
occ {quoted}
occ background:cron
"""


class Nextcloud(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        database: DatabaseCredentials,
        redis: RedisCredentials,
        keycloak: KeycloakView,
        client_id: str,
        client_secret: pulumi.Input[str] | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:collaboration:Nextcloud", "nextcloud", None, opts)
        if database.engine != "postgresql":
            raise ValueError("Nextcloud runs on PostgreSQL here (itstack-spec §4.8)")
        self.ctx = ctx
        self.admin_password = random.RandomPassword(
            "nextcloud-admin-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        env: dict[str, pulumi.Input[str]] = {
            "POSTGRES_HOST": f"{database.host}:{database.port}",
            "POSTGRES_DB": database.database,
            "POSTGRES_USER": database.user,
            "POSTGRES_PASSWORD": database.password,
            "NEXTCLOUD_ADMIN_USER": ADMIN_USER,
            "NEXTCLOUD_ADMIN_PASSWORD": self.admin_password.result,
            "NEXTCLOUD_TRUSTED_DOMAINS": ctx.fqdn,
            "OVERWRITEPROTOCOL": "https",
            "OVERWRITECLIURL": ctx.url,
            "TRUSTED_PROXIES": TRUSTED_PROXIES,
            "ITSTACK_REDIS_PASSWORD": redis.password,
            "PHP_MEMORY_LIMIT": "1024M",
            "PHP_UPLOAD_LIMIT": "1024M",
        }
        self.sso = client_secret is not None
        if client_secret is not None:
            env["ITSTACK_OIDC_CLIENT_SECRET"] = client_secret
        if smtp is not None:
            domain = smtp.from_address.split("@", 1)[1]
            env.update(
                {
                    "SMTP_HOST": smtp.host,
                    "SMTP_PORT": str(smtp.port),
                    # No SMTP_SECURE: on 587 the mailer upgrades with STARTTLS when offered. No
                    # SMTP_AUTHTYPE: it only feeds mail_smtpauthtype, which the mailer ignores.
                    "SMTP_NAME": smtp.user,
                    "SMTP_PASSWORD": smtp.password,
                    "MAIL_FROM_ADDRESS": smtp.from_address.split("@", 1)[0],
                    "MAIL_DOMAIN": domain,
                }
            )
        # Uploads are stored as secrets like every upload (foundation rule), even those without one.
        config = config_php(ctx.fqdn, redis, smtp_unverified=smtp is not None)
        uploads = [
            docker.ContainerUploadArgs(file=CONFIG_SRC, content=pulumi.Output.secret(config)),
            docker.ContainerUploadArgs(file=SESSION_INI, content=session_ini(redis)),
        ]
        if self.sso:
            uploads.append(
                docker.ContainerUploadArgs(
                    file=HOOK, content=pulumi.Output.secret(hook_script(client_id, keycloak.discovery_url)),
                    permissions=HOOK_MODE,
                )
            )
        else:
            # Without SSO the hook still installs the shared config file.
            uploads.append(
                docker.ContainerUploadArgs(
                    file=HOOK, content=pulumi.Output.secret(f"#!/bin/sh\nset -eu\ncp {CONFIG_SRC} {CONFIG_DST}\n"),
                    permissions=HOOK_MODE,
                )
            )
        html = ctx.volume(self, "html")
        self.endpoint = ctx.endpoint(HTTP_PORT)
        networks = [database.network, redis.network, keycloak.network] + ([smtp.network] if smtp else [])
        depends = [database.ready, redis.ready] + ([smtp.ready] if smtp else [])
        envs = env_list(env)
        volumes = [docker.ContainerVolumeArgs(volume_name=html.name, container_path="/var/www/html")]
        self.container = ctx.container(
            self,
            envs=envs,
            endpoints=[self.endpoint],
            volumes=volumes,
            uploads=uploads,
            networks=networks,
            # status.php answers "installed":true only once the install (and our hook) ran.
            healthcheck=health(
                [f"curl -fsS --max-time 4 -H 'Host: {ctx.fqdn}' http://127.0.0.1/status.php | grep -q '\"installed\":true'"],
                start_period="300s",
                retries=30,
            ),
            wait_timeout=1200,
            depends_on=depends,
        )
        # Background jobs: the image's /cron.sh (busybox crond, every 5 min) on the same volume.
        # It starts after the main container is healthy, so it never races the install.
        self.cron = ctx.container(
            self,
            role="cron",
            image_role="main",
            command=["/cron.sh"],
            # Only the hook reads the client secret, and hooks run in the main container alone.
            envs=env_list({k: v for k, v in env.items() if k != "ITSTACK_OIDC_CLIENT_SECRET"}),
            volumes=volumes,
            networks=networks,
            healthcheck=health(["grep -q crond /proc/1/cmdline"]),
            depends_on=[self.container],
        )
        self.html_volume = html
        self.register_outputs({"url": ctx.url, "admin_user": ADMIN_USER, "admin_password": self.admin_password.result})
