"""Zabbix 7.0 LTS: server, web front end and agent 2, on its own PostgreSQL database.

- Server (`zabbix-server-pgsql`) creates the schema in its database on first start (the image's
  entrypoint; DB_SERVER_HOST/DB_SERVER_PORT/POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB are what
  zabbix/zabbix-docker Dockerfiles/server-pgsql/alpine/docker-entrypoint.sh reads).
- Web (`zabbix-web-nginx-pgsql`) listens on 8080 and is routed at monitor.<domain>; it is
  published on the host address too, because the engine configures Zabbix through its API.
- Agent 2 reports on the Zabbix host itself.
- SSO: SAML 2.0 with Keycloak as IdP (Zabbix has no OIDC). The IdP certificate is uploaded as
  /etc/zabbix/web/certs/idp.crt (the web image's zabbix.conf.php reads it there); the SAML
  directory, JIT provisioning and the group -> role mapping go through the API (zabbix_api.py).
- Monitoring: one Zabbix host per deployed service, created after that service, so "everything
  before Zabbix's monitoring of it" falls out of the graph.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import Endpoint, ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials
from components.infrastructure import zabbix_api as api

WEB_PORT = 8080
SERVER_PORT = 10051
AGENT_PORT = 10050
HOST_GROUP = "IT-Stack services"
OPERATORS_GROUP = "IT-Stack operators"  # read access to HOST_GROUP; SSO users land here
# Accepted HTTP answers for "the app answers": redirects to a login page and auth challenges count.
WEB_OK_CODES = "200-399,401,403"
CERT_DIR = "/etc/zabbix/web/certs"


@dataclass
class MonitorTarget:
    """A deployed service Zabbix watches: its web route and/or TCP endpoints."""

    service: str
    depends_on: Sequence[pulumi.Resource]
    web: list[tuple[str, Endpoint, str]] = field(default_factory=list)  # (check name, endpoint, scheme)
    tcp: list[tuple[str, Endpoint]] = field(default_factory=list)
    fqdn: str | None = None

    def endpoints(self) -> list[Endpoint]:
        return [e for _, e, _ in self.web] + [e for _, e in self.tcp]


@dataclass
class ZabbixSso:
    """What Zabbix needs of the Keycloak SAML client (see Keycloak.saml_client)."""

    sp_entity_id: str
    idp_entity_id: str
    sso_url: str
    idp_certificate_pem: pulumi.Input[str]
    # IdP group (here: the client role released in the `Role` attribute) -> (Zabbix role, user groups)
    provision: Mapping[str, tuple[str, Sequence[str]]]
    ready: pulumi.Resource


def _pem(cert: str) -> str:
    """Keycloak returns the certificate as base64 DER; Zabbix wants PEM."""
    if not cert or "BEGIN CERTIFICATE" in cert:
        return cert
    body = "\n".join(cert[i:i + 64] for i in range(0, len(cert), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


class Zabbix(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        *,
        sso: ZabbixSso | None = None,
        smtp: SmtpCredentials | None = None,
        targets: Sequence[MonitorTarget] = (),
        mattermost_webhook_url: pulumi.Input[str] | None = None,
        mattermost_channel: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:infrastructure:Zabbix", "zabbix", None, opts)
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("zabbix-admin-password", length=32, special=False, opts=ro)
        self.url = ctx.url
        self.server_endpoint = ctx.endpoint(SERVER_PORT, role="server")
        self.web_endpoint = ctx.endpoint(WEB_PORT, role="web", published=True, host_port=8090)  # 8080 is Keycloak's in dev
        self.agent_endpoint = ctx.endpoint(AGENT_PORT, role="agent")
        db_env = {
            "DB_SERVER_HOST": database.host,
            "DB_SERVER_PORT": str(database.port),
            "POSTGRES_USER": database.user,
            "POSTGRES_PASSWORD": database.password,
            "POSTGRES_DB": database.database,
        }
        # The server polls every monitored endpoint: it joins their tier networks on this host
        # (other hosts' endpoints are reached by address), like Traefik does for its backends.
        target_nets = [e.network_for(ctx.host) for t in targets for e in t.endpoints()]
        smtp_nets = [smtp.network] if smtp is not None else []
        self.server = ctx.container(
            self,
            role="server",
            envs=env_list(
                db_env
                | {
                    "ZBX_CACHESIZE": "64M",
                    "ZBX_STARTPOLLERS": "5",
                    "ZBX_STARTHTTPPOLLERS": "2",
                    "ZBX_STARTPINGERS": "2",
                }
            ),
            endpoints=[self.server_endpoint],
            networks=[database.network] + smtp_nets + target_nets,
            # The process runs and its trapper port accepts connections (schema creation on the
            # first start takes a minute or two).
            healthcheck=health(
                ["pgrep -x zabbix_server >/dev/null",
                 f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{SERVER_PORT}'"],
                start_period="180s",
            ),
            wait_timeout=600,
            depends_on=[database.ready],
        )
        uploads = []
        web_env = db_env | {
            "ZBX_SERVER_HOST": self.server.name,
            "ZBX_SERVER_PORT": str(SERVER_PORT),
            "ZBX_SERVER_NAME": f"IT-Stack {ctx.settings.stack}",
            "PHP_TZ": "UTC",
        }
        if sso is not None:
            # Zabbix is behind Traefik's TLS: build SAML URLs from the public base URL.
            web_env["ZBX_SSO_SETTINGS"] = json.dumps({"baseurl": f"{self.url}/", "use_proxy_headers": True,
                                                      "strict": True})
            uploads.append(docker.ContainerUploadArgs(
                file=f"{CERT_DIR}/idp.crt",
                # Public, but uploads are kept secret as a rule (the docker schema marks none).
                content=pulumi.Output.secret(sso.idp_certificate_pem).apply(_pem),
            ))
        self.web = ctx.container(
            self,
            role="web",
            envs=env_list(web_env),
            endpoints=[self.web_endpoint],
            networks=[database.network],
            uploads=uploads,
            # The front page renders (PHP + database) and the API answers.
            healthcheck=health(
                [f"curl -fsS --max-time 4 http://127.0.0.1:{WEB_PORT}/ | grep -qi zabbix",
                 "curl -fsS --max-time 4 -H 'Content-Type: application/json-rpc' "
                 "-d '{\"jsonrpc\":\"2.0\",\"method\":\"apiinfo.version\",\"params\":{},\"id\":1}' "
                 f"http://127.0.0.1:{WEB_PORT}/api_jsonrpc.php | grep -q result"],
                start_period="60s",
            ),
            depends_on=[self.server],
        )
        self.agent = ctx.container(
            self,
            role="agent",
            envs=env_list(
                {
                    "ZBX_HOSTNAME": ctx.host.name,
                    "ZBX_SERVER_HOST": self.server.name,
                    "ZBX_SERVER_PORT": str(SERVER_PORT),
                }
            ),
            endpoints=[self.agent_endpoint],
            healthcheck=health(
                ["pgrep zabbix_agent2 >/dev/null", f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{AGENT_PORT}'"]
            ),
            depends_on=[self.server],
        )

        host, port = self.web_endpoint.admin_address
        # Known only once the web container is healthy: API resources wait for it.
        self.api_url = self.web.name.apply(lambda _: f"http://{host}:{port}")
        self.admin = api.ZabbixAdmin("zabbix-admin", api_url=self.api_url,
                                     admin_password=self.admin_password.result, opts=ro)
        api_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.admin])
        common = {"api_url": self.api_url, "admin_password": self.admin_password.result}

        self.saml = None
        if sso is not None:
            self.saml = api.ZabbixSaml(
                "zabbix-saml",
                **common,
                sp_entityid=sso.sp_entity_id,
                idp_entityid=sso.idp_entity_id,
                sso_url=sso.sso_url,
                slo_url=sso.sso_url,
                username_attribute="uid",
                group_attribute="Role",
                firstname_attribute="givenName",
                lastname_attribute="sn",
                provision_groups=[{"idp_group": g, "role": role, "user_groups": list(groups)}
                                  for g, (role, groups) in sso.provision.items()],
                own_user_groups={OPERATORS_GROUP: HOST_GROUP},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.admin, sso.ready]),
            )

        self.notifications = None
        if smtp is not None or mattermost_webhook_url is not None:
            smtp_input = None
            if smtp is not None:
                smtp_input = pulumi.Output.secret(smtp.password).apply(lambda pw: {
                    "host": smtp.host, "port": smtp.port, "user": smtp.user, "password": pw,
                    "from_address": smtp.from_address})
            deps = [self.admin] + ([smtp.ready] if smtp is not None else [])
            self.notifications = api.ZabbixNotifications(
                "zabbix-notifications",
                **common,
                zabbix_url=self.url,
                helo=ctx.settings.domain,
                smtp=smtp_input,
                mattermost_webhook_url=mattermost_webhook_url,
                mattermost_channel=mattermost_channel,
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )

        # The Zabbix host itself, through its agent.
        self.monitored: dict[str, api.ZabbixMonitoredHost] = {}
        self.monitored[f"host-{ctx.host.name}"] = api.ZabbixMonitoredHost(
            f"zabbix-monitor-host-{ctx.host.name}",
            **common,
            host=ctx.host.name,
            visible_name=f"{ctx.host.name} (Docker host of Zabbix)",
            group=HOST_GROUP,
            service="zabbix",
            agent={"dns": self.agent_endpoint.container_name, "port": AGENT_PORT,
                   "templates": ["Linux by Zabbix agent"]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.admin, self.agent]),
        )
        # Zabbix itself: its web front end and its server's trapper port.
        own = MonitorTarget("zabbix", depends_on=[self.web], fqdn=ctx.fqdn,
                            web=[("Zabbix web", self.web_endpoint, "http")],
                            tcp=[("Zabbix server trapper", self.server_endpoint)])
        for t in [own, *targets]:
            web_checks = []
            for name, endpoint, scheme in t.web:
                h, p = endpoint.address_for(ctx.host)
                web_checks.append({"name": name, "url": f"{scheme}://{h}:{p}/", "status_codes": WEB_OK_CODES})
            tcp_checks = []
            for name, endpoint in t.tcp:
                h, p = endpoint.address_for(ctx.host)
                tcp_checks.append({"name": name, "address": h, "port": p})
            self.monitored[t.service] = api.ZabbixMonitoredHost(
                f"zabbix-monitor-{t.service}",
                **common,
                host=f"itstack-{t.service}",
                visible_name=t.fqdn or t.service,
                group=HOST_GROUP,
                service=t.service,
                web_checks=web_checks,
                tcp_checks=tcp_checks,
                # Zabbix watches a service only once that service is deployed (and answering).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.admin, *t.depends_on]),
            )
        self.register_outputs({"url": self.url, "api_url": self.api_url,
                               "monitored": sorted(self.monitored)})
