"""Zammad 6.5: the help desk. One upstream image, five roles as in Zammad's own docker stack:
a one-shot init (migrate, seed, then our settings), the rails server, the scheduler (background
worker), the websocket server and the nginx front that Traefik routes to.

Configuration (github.com/zammad/zammad contrib/docker/docker-entrypoint.sh and the documented
docker environment variables): POSTGRESQL_* (own database, DB_CREATE=false since the data tier
created it), REDIS_URL (own ACL user and logical db), ELASTICSEARCH_* incl. USER/PASS, and for
nginx ZAMMAD_RAILSSERVER_HOST / ZAMMAD_WEBSOCKET_HOST / NGINX_SERVER_SCHEME. The entrypoint reads
no FQDN or scheme variable: those (fqdn, http_type) and everything else (OIDC, LDAP role sync,
outgoing mail, monitoring token, break-glass admin) are set by
`zammad_setup.rb` through `rails r` in the init job, because Zammad keeps them in its database.

Rails cache: without memcached Zammad uses a file store under /opt/zammad/tmp; all roles share
one volume there so a setting changed by one process is seen by the others.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, RedisCredentials, SmtpCredentials
from components.data.elasticsearch import SearchCredentials
from components.identity.freeipa import Directory
from components.identity.keycloak import OidcClient

RAILS_PORT = 3000
WEBSOCKET_PORT = 6042
NGINX_PORT = 8088
SETUP_SCRIPT = "/tmp/itstack-zammad-setup.rb"
SETUP_SOURCE = (Path(__file__).parent / "zammad_setup.rb").read_text()
ADMIN_GROUP = "zammad-admin"
AGENT_GROUP = "zammad-agent"
# Docker bridges and the lab LAN: Traefik and Zammad's nginx reach rails from these.
TRUSTED_PROXIES = "127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"


def ldap_host_and_ssl(ldap_url: str) -> tuple[str, str]:
    """Zammad's LdapSource wants 'host:port' and ssl 'off' | 'ssl' (ldaps)."""
    u = urlparse(ldap_url)
    ssl = u.scheme == "ldaps"
    port = u.port or (636 if ssl else 389)
    return f"{u.hostname}:{port}", "ssl" if ssl else "off"


class Zammad(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        database: DatabaseCredentials,
        redis: RedisCredentials,
        search: SearchCredentials,
        oidc: OidcClient | None,
        directory: Directory | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:communications:Zammad", "zammad", None, opts)
        self.ctx = ctx
        self.url = ctx.url
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_email = f"zammad-admin@{ctx.domain}"
        self.admin_password = random.RandomPassword(
            "zammad-admin-password", length=32, special=False, min_upper=2, min_lower=2, min_numeric=2, opts=ro
        )
        self.monitoring_token = random.RandomPassword("zammad-monitoring-token", length=40, special=False, opts=ro)

        storage = ctx.volume(self, "storage")
        tmp = ctx.volume(self, "tmp")
        mounts = [
            docker.ContainerVolumeArgs(volume_name=storage.name, container_path="/opt/zammad/storage"),
            docker.ContainerVolumeArgs(volume_name=tmp.name, container_path="/opt/zammad/tmp"),
        ]
        search_url = urlparse(search.url)
        common = {
            "POSTGRESQL_HOST": database.host,
            "POSTGRESQL_PORT": str(database.port),
            "POSTGRESQL_DB": database.database,
            "POSTGRESQL_USER": database.user,
            "POSTGRESQL_PASS": database.password,
            "POSTGRESQL_OPTIONS": "?pool=20",
            "POSTGRESQL_DB_CREATE": "false",
            "REDIS_URL": redis.url(),
            "ELASTICSEARCH_ENABLED": "true",
            "ELASTICSEARCH_SCHEMA": search_url.scheme,
            "ELASTICSEARCH_HOST": search_url.hostname,
            "ELASTICSEARCH_PORT": str(search_url.port),
            "ELASTICSEARCH_USER": search.user,
            "ELASTICSEARCH_PASS": search.password,
            "ELASTICSEARCH_NAMESPACE": "zammad",
            "RAILS_TRUSTED_PROXIES": TRUSTED_PROXIES,
            "TZ": "UTC",
        }
        networks = [database.network, redis.network, search.network]
        directory_net = directory.network if directory else None
        if isinstance(directory_net, docker.Network):
            networks.append(directory_net)
        if smtp is not None:
            networks.append(smtp.network)
        network_names = [directory_net] if isinstance(directory_net, str) else []

        setup_env = dict(common)
        setup_env.update(
            {
                "ITSTACK_FQDN": ctx.fqdn,
                "ITSTACK_ORGANIZATION": "IT-Stack",
                "ITSTACK_MONITORING_TOKEN": self.monitoring_token.result,
                "ITSTACK_ADMIN_EMAIL": self.admin_email,
                "ITSTACK_ADMIN_PASSWORD": self.admin_password.result,
            }
        )
        if oidc is not None:  # sso:keycloak->zammad on
            setup_env.update({"ITSTACK_OIDC_DISPLAY_NAME": "IT-Stack SSO", "ITSTACK_OIDC_CLIENT_ID": oidc.client_id,
                              "ITSTACK_OIDC_ISSUER": oidc.issuer})
        if directory is not None:
            host, ssl = ldap_host_and_ssl(directory.ldap_url)
            setup_env.update(
                {
                    "ITSTACK_LDAP_HOST": host,
                    "ITSTACK_LDAP_SSL": ssl,
                    "ITSTACK_LDAP_BASE_DN": directory.base_dn,
                    "ITSTACK_LDAP_BIND_DN": directory.bind_dn,
                    "ITSTACK_LDAP_BIND_PASSWORD": directory.bind_password,
                    "ITSTACK_LDAP_ADMIN_GROUP_DN": f"cn={ADMIN_GROUP},{directory.groups_dn}",
                    "ITSTACK_LDAP_AGENT_GROUP_DN": f"cn={AGENT_GROUP},{directory.groups_dn}",
                }
            )
        if smtp is not None:
            setup_env.update(
                {
                    "ITSTACK_SMTP_HOST": smtp.host,
                    "ITSTACK_SMTP_PORT": str(smtp.port),
                    "ITSTACK_SMTP_USER": smtp.user,
                    "ITSTACK_SMTP_PASSWORD": smtp.password,
                    "ITSTACK_SMTP_FROM": smtp.from_address,
                }
            )
        ready = [database.ready, redis.ready, search.ready] + ([oidc.resource] if oidc else [])
        ready += [r for r in (directory.ready if directory else None, smtp.ready if smtp else None) if r is not None]

        # One-shot: install or migrate (the image's own `zammad-init`), then our settings.
        self.init_job = docker.Container(
            "zammad-init",
            name=ctx.container_name("init"),
            image=ctx.image(self).image_id,
            entrypoints=["/bin/bash", "-c"],
            command=[f"/docker-entrypoint.sh zammad-init && /docker-entrypoint.sh bundle exec rails r {SETUP_SCRIPT}"],
            envs=env_list(setup_env),
            uploads=[docker.ContainerUploadArgs(file=SETUP_SCRIPT, content=pulumi.Output.secret(SETUP_SOURCE))],
            volumes=mounts,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=n.name)
                for n in _unique([ctx.host.network(ctx.tier)] + [n for n in networks if n is not None])
            ]
            + [docker.ContainerNetworksAdvancedArgs(name=n) for n in network_names],
            attach=True,
            must_run=False,
            logs=True,
            labels=[
                docker.ContainerLabelArgs(label="org.itstack.service", value="zammad"),
                docker.ContainerLabelArgs(label="org.itstack.role", value="init"),
            ],
            opts=ctx.opts(self, depends_on=ready, additional_secret_outputs=["envs", "uploads"]),
        )

        env = env_list(common)
        # Rails and websocket are reached only by Zammad's nginx on the tier network: not published.
        self.rails_host = ctx.container_name("railsserver")
        self.websocket_host = ctx.container_name("websocket")
        self.endpoint = ctx.endpoint(NGINX_PORT, role="nginx")
        # The monitoring endpoint answers only with the right token: proves rails, the database
        # (where the token lives) and our settings job all worked; "healthy":true also needs the
        # scheduler to have run, so the scheduler starts beside rails, not after it.
        rails_env = env_list({**common, "ITSTACK_MONITORING_TOKEN": self.monitoring_token.result})
        self.railsserver = ctx.container(
            self,
            role="railsserver",
            image_role="main",
            command=["zammad-railsserver"],
            envs=rails_env,
            volumes=mounts,
            networks=networks,
            network_names=network_names,
            healthcheck=health(
                [f'curl -fsS --max-time 4 "http://127.0.0.1:{RAILS_PORT}/api/v1/monitoring/health_check'
                 f'?token=$ITSTACK_MONITORING_TOKEN" | grep -q \'"healthy":true\''],
                start_period="180s",
                retries=30,
            ),
            wait_timeout=900,
            depends_on=[self.init_job],
        )
        self.scheduler = ctx.container(
            self,
            role="scheduler",
            image_role="main",
            command=["zammad-scheduler"],
            envs=env,
            volumes=mounts,
            networks=networks,
            network_names=network_names,
            # No port: the background worker must be PID 1 (the entrypoint execs it once ready).
            healthcheck=health(["tr '\\0' ' ' </proc/1/cmdline | grep -q background-worker"], start_period="180s"),
            wait_timeout=900,
            # Not after rails: rails answers "healthy":true only once the scheduler has run its
            # jobs ("scheduler not running" otherwise). The entrypoint waits for the init job's
            # migrations itself (check_zammad_ready).
            depends_on=[self.init_job],
        )
        self.websocket = ctx.container(
            self,
            role="websocket",
            image_role="main",
            command=["zammad-websocket"],
            envs=env,
            volumes=mounts,
            networks=networks,
            network_names=network_names,
            healthcheck=health([f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{WEBSOCKET_PORT}'"], start_period="180s"),
            wait_timeout=900,
            depends_on=[self.railsserver],
        )
        self.nginx = ctx.container(
            self,
            role="nginx",
            image_role="main",
            command=["zammad-nginx"],
            envs=env_list(
                {
                    **common,
                    "NGINX_PORT": str(NGINX_PORT),
                    # TLS ends at Traefik: rails must build https:// URLs.
                    "NGINX_SERVER_SCHEME": "https",
                    "ZAMMAD_RAILSSERVER_HOST": self.rails_host,
                    "ZAMMAD_RAILSSERVER_PORT": str(RAILS_PORT),
                    "ZAMMAD_WEBSOCKET_HOST": self.websocket_host,
                    "ZAMMAD_WEBSOCKET_PORT": str(WEBSOCKET_PORT),
                }
            ),
            endpoints=[self.endpoint],
            networks=networks,
            network_names=network_names,
            healthcheck=health([f"curl -fsS --max-time 4 -o /dev/null http://127.0.0.1:{NGINX_PORT}/"], start_period="180s"),
            wait_timeout=900,
            depends_on=[self.railsserver, self.websocket],
        )
        self.volumes = {"storage": storage, "tmp": tmp}
        self.register_outputs({"url": self.url, "admin_email": self.admin_email})


def _unique(nets: Sequence[docker.Network]) -> list[docker.Network]:
    seen: set[int] = set()
    out = []
    for n in nets:
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)
    return out
