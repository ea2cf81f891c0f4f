"""Taiga 6.9: agile project management (pm.<domain>).

Containers (one component, one host):
- rabbitmq   broker for both taiga-events and the Celery worker (taiga-back 6.9 uses RabbitMQ,
             not Redis: docker/config.py sets EVENTS_PUSH_BACKEND rabbitmq and CELERY_BROKER_URL amqp)
- back       Django API (gunicorn :8000), its own PostgreSQL database
- async      the same image running Celery (docker/async_entrypoint.sh)
- events     websocket server (:8888, health :3023/healthz)
- protected  taiga-protected: checks the signed media URLs
- front      taiga-front's nginx, also the gateway: the one Traefik route goes here, and it
             proxies /api, /admin, /media, /events by path (our Route type has no path rules)
- admin job  creates/updates a local break-glass superuser

SSO: Taiga has no OIDC in core. We ship our own small auth plugin (back: Django app
`taiga_itstack_oidc`, front: `itstack-oidc` button), uploaded into the upstream images.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health, http_health
from components.data.credentials import DatabaseCredentials, SmtpCredentials
from components.identity.keycloak import OidcClient
from components.itmgmt.common import files, web_endpoint, job, merge_env, upload

FRONT_PORT = 80
BACK_PORT = 8000
VHOST = "taiga"
LOCAL_ADMIN = "itstack-admin"
PLUGIN_FILES = ("__init__.py", "apps.py", "policy.py", "services.py")
USER_ROLE, ADMIN_ROLE = "taiga-user", "taiga-admin"
USER_GROUP, ADMIN_GROUP = "taiga-users", "taiga-admins"

_PY_GET = (
    "python -c \"import sys,urllib.request;"
    "r=urllib.request.urlopen('http://127.0.0.1:{port}{path}',timeout=4);"
    "sys.exit(0 if r.status==200 and {check} else 1)\""
)


@dataclass
class TaigaSso:
    """Where the back reaches Keycloak (back channel) and the client it logs in with."""

    client: OidcClient
    backchannel_realm_url: str  # http://<keycloak as seen from Taiga's host>/realms/<realm>
    network: docker.Network | None


def redirect_uri(ctx: ServiceContext) -> str:
    return f"{ctx.url}/login"


class Taiga(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        sso: TaigaSso | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:itmgmt:Taiga", "taiga", None, opts)
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.secret_key = random.RandomPassword("taiga-secret-key", length=50, special=False, opts=ro)
        self.rabbitmq_password = random.RandomPassword("taiga-rabbitmq-password", length=32, special=False, opts=ro)
        self.admin_password = random.RandomPassword("taiga-admin-password", length=32, special=False, opts=ro)
        static = ctx.volume(self, "static")
        media = ctx.volume(self, "media")
        rabbit_data = ctx.volume(self, "rabbitmq")

        # --- RabbitMQ ---------------------------------------------------------------------
        rabbit_name = ctx.container_name("rabbitmq")
        self.rabbitmq = ctx.container(
            self,
            role="rabbitmq",
            envs=env_list({
                "RABBITMQ_DEFAULT_USER": "taiga",
                "RABBITMQ_DEFAULT_PASS": self.rabbitmq_password.result,
                "RABBITMQ_DEFAULT_VHOST": VHOST,
            }),
            volumes=[docker.ContainerVolumeArgs(volume_name=rabbit_data.name, container_path="/var/lib/rabbitmq")],
            healthcheck=health(["rabbitmq-diagnostics -q check_port_connectivity"], start_period="60s"),
        )
        amqp = self.rabbitmq_password.result.apply(lambda p: f"amqp://taiga:{p}@{rabbit_name}:5672/{VHOST}")

        # --- back and async -----------------------------------------------------------------
        back_name = ctx.container_name("back")
        env = {
            "POSTGRES_HOST": database.host,
            "POSTGRES_PORT": str(database.port),
            "POSTGRES_DB": database.database,
            "POSTGRES_USER": database.user,
            "POSTGRES_PASSWORD": database.password,
            "TAIGA_SECRET_KEY": self.secret_key.result,
            "TAIGA_SITES_SCHEME": "https",
            "TAIGA_SITES_DOMAIN": ctx.fqdn,
            "TAIGA_SUBPATH": "",
            "RABBITMQ_USER": "taiga",
            "RABBITMQ_PASS": self.rabbitmq_password.result,
            "EVENTS_PUSH_BACKEND_URL": amqp,
            "CELERY_BROKER_URL": amqp,
            "ENABLE_TELEMETRY": "False",
            "PUBLIC_REGISTER_ENABLED": "False",
            "DJANGO_SETTINGS_MODULE": "settings.itstack",
            "ITSTACK_LOCAL_ADMIN": LOCAL_ADMIN,
        }
        if smtp is not None:
            env.update({
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": smtp.host,
                "EMAIL_PORT": str(smtp.port),
                "EMAIL_HOST_USER": smtp.user,
                "EMAIL_HOST_PASSWORD": smtp.password,
                "EMAIL_USE_TLS": "True",
                "EMAIL_USE_SSL": "False",
                "DEFAULT_FROM_EMAIL": smtp.from_address,
            })
        else:
            env["EMAIL_BACKEND"] = "django.core.mail.backends.console.EmailBackend"
        if sso is not None:
            base = f"{sso.backchannel_realm_url}/protocol/openid-connect"
            env.update({
                "ITSTACK_OIDC_ENABLED": "True",
                "ITSTACK_OIDC_CLIENT_ID": sso.client.client_id,
                "ITSTACK_OIDC_CLIENT_SECRET": sso.client.client_secret,
                "ITSTACK_OIDC_TOKEN_URL": f"{base}/token",
                "ITSTACK_OIDC_USERINFO_URL": f"{base}/userinfo",
                "ITSTACK_OIDC_REDIRECT_URI": redirect_uri(ctx),
                "ITSTACK_OIDC_USER_ROLE": USER_ROLE,
                "ITSTACK_OIDC_ADMIN_ROLE": ADMIN_ROLE,
            })
        back_env = env_list(env)
        back_uploads = [upload("/taiga-back/settings/itstack.py", files("taiga/back/itstack_settings.py"))] + [
            upload(f"/taiga-back/taiga_itstack_oidc/{f}", files(f"taiga/back/taiga_itstack_oidc/{f}"))
            for f in PLUGIN_FILES
        ]
        back_volumes = [
            docker.ContainerVolumeArgs(volume_name=static.name, container_path="/taiga-back/static"),
            docker.ContainerVolumeArgs(volume_name=media.name, container_path="/taiga-back/media"),
        ]
        nets = [database.network] + ([sso.network] if sso else []) + ([smtp.network] if smtp else [])
        ready = [database.ready] + ([smtp.ready] if smtp else [])
        self.back_endpoint = ctx.endpoint(BACK_PORT, role="back")
        self.back = ctx.container(
            self,
            role="back",
            envs=back_env,
            uploads=back_uploads,
            volumes=back_volumes,
            networks=nets,
            healthcheck=health(
                [_PY_GET.format(port=BACK_PORT, path="/api/v1/", check="b'projects' in r.read()")],
                start_period="120s",
            ),
            wait_timeout=600,
            # The client only has to exist before the first SSO login; waiting for it keeps the order plain.
            depends_on=ready + [self.rabbitmq] + ([sso.client.resource] if sso else []),
        )
        self.worker = ctx.container(
            self,
            role="async",
            image_role="back",
            entrypoints=["/taiga-back/docker/async_entrypoint.sh"],
            envs=back_env,
            uploads=back_uploads,
            volumes=back_volumes,
            networks=nets,
            # A worker that answers a broadcast ping through the broker is alive and connected.
            healthcheck=health(["celery -A taiga.celery inspect ping --timeout 10 | grep -q pong"],
                               interval="30s", timeout="20s", start_period="60s"),
            depends_on=[self.back],  # migrations run in back's entrypoint first
        )

        # --- events and protected media -------------------------------------------------------
        events_name = ctx.container_name("events")
        self.events = ctx.container(
            self,
            role="events",
            envs=env_list({
                "RABBITMQ_USER": "taiga",
                "RABBITMQ_PASS": self.rabbitmq_password.result,
                "TAIGA_EVENTS_RABBITMQ_HOST": rabbit_name,
                "TAIGA_SECRET_KEY": self.secret_key.result,
            }),
            healthcheck=http_health("http://127.0.0.1:3023/healthz", tool="wget"),
            depends_on=[self.rabbitmq],
        )
        protected_name = ctx.container_name("protected")
        self.protected = ctx.container(
            self,
            role="protected",
            envs=env_list({"SECRET_KEY": self.secret_key.result, "MAX_AGE": "360"}),
            # An unsigned request must be refused (403): the server answers and checks tokens.
            healthcheck=health([
                "python -c \"import sys,urllib.request,urllib.error\n"
                "try:\n urllib.request.urlopen('http://127.0.0.1:8003/attachments/a/b/c/d/e/f.txt',timeout=4)\n"
                "except urllib.error.HTTPError as e:\n sys.exit(0 if e.code==403 else 1)\nsys.exit(1)\""
            ]),
        )

        # --- front / gateway ------------------------------------------------------------------
        conf = {
            "api": f"{ctx.url}/api/v1/",
            "eventsUrl": f"wss://{ctx.fqdn}/events",
            "baseHref": "/",
            "eventsMaxMissedHeartbeats": 5,
            "eventsHeartbeatIntervalTime": 60000,
            "eventsReconnectTryInterval": 10000,
            "debug": False,
            "debugInfo": False,
            "defaultLanguage": "en",
            "themes": ["taiga"],
            "defaultTheme": "taiga",
            # The local login form stays for the break-glass admin.
            "defaultLoginEnabled": True,
            "publicRegisterEnabled": False,
            "feedbackEnabled": False,
            "supportUrl": "https://community.taiga.io/",
            "privacyPolicyUrl": None,
            "termsOfServiceUrl": None,
            "maxUploadFileSize": None,
            "contribPlugins": ["/plugins/itstack-oidc/itstack-oidc.json"] if sso else [],
            "tagManager": {"accountId": None},
            "tribeHost": None,
            "enableAsanaImporter": False,
            "enableGithubImporter": False,
            "enableJiraImporter": False,
            "enableTrelloImporter": False,
            "gravatar": False,
            "rtlLanguages": ["ar", "fa", "he"],
        }
        if sso is not None:
            conf.update({
                # The browser goes to Keycloak's public URL; only the back uses the back channel.
                "itstackOidcAuthUrl": f"{sso.client.issuer}/protocol/openid-connect/auth",
                "itstackOidcClientId": sso.client.client_id,
                "itstackOidcRedirectUri": redirect_uri(ctx),
                "itstackOidcName": "IT-Stack SSO",
            })
        self.front_config = conf
        gateway = (files("taiga/gateway.conf").replace("@BACK@", back_name)
                   .replace("@PROTECTED@", protected_name).replace("@EVENTS@", events_name))
        front_uploads = [
            upload("/usr/share/nginx/html/conf.json", json.dumps(conf, indent=2)),
            upload("/etc/nginx/conf.d/default.conf", gateway),
        ]
        if sso is not None:
            front_uploads += [
                upload(f"/usr/share/nginx/html/plugins/itstack-oidc/{f}", files(f"taiga/front/{f}"))
                for f in ("itstack-oidc.json", "itstack-oidc.js", "itstack-oidc.html")
            ]
        self.endpoint = web_endpoint(ctx, FRONT_PORT, role="front")
        self.front = ctx.container(
            self,
            role="front",
            endpoints=[self.endpoint],
            uploads=front_uploads,
            volumes=[
                docker.ContainerVolumeArgs(volume_name=static.name, container_path="/taiga/static", read_only=True),
                docker.ContainerVolumeArgs(volume_name=media.name, container_path="/taiga/media", read_only=True),
            ],
            # The SPA config is served and the API answers through the gateway.
            healthcheck=health([
                "wget -q -T 4 -O - http://127.0.0.1/conf.json | grep -q '\"api\"'",
                "wget -q -T 4 -O - http://127.0.0.1/api/v1/ | grep -q projects",
            ]),
            depends_on=[self.back, self.events, self.protected],
        )

        # --- local break-glass admin ----------------------------------------------------------
        self.admin_job = job(
            ctx,
            self,
            "admin",
            image_role="back",
            entrypoints=["/bin/sh", "-c"],
            command=["python manage.py shell < /tmp/itstack/ensure_admin.py"],
            envs=env_list(merge_env(
                {k: env[k] for k in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER",
                                     "POSTGRES_PASSWORD", "TAIGA_SECRET_KEY", "TAIGA_SITES_SCHEME",
                                     "TAIGA_SITES_DOMAIN", "RABBITMQ_USER", "RABBITMQ_PASS",
                                     "EVENTS_PUSH_BACKEND_URL", "CELERY_BROKER_URL")},
                {
                    "DJANGO_SETTINGS_MODULE": "settings.config",
                    "ITSTACK_LOCAL_ADMIN": LOCAL_ADMIN,
                    "ITSTACK_LOCAL_ADMIN_EMAIL": f"{LOCAL_ADMIN}@{ctx.domain}",
                    "ITSTACK_LOCAL_ADMIN_PASSWORD": self.admin_password.result,
                },
            )),
            uploads=[upload("/tmp/itstack/ensure_admin.py", files("taiga/back/ensure_admin.py"))],
            networks=[database.network],
            depends_on=[self.back],
        )
        self.register_outputs({"url": ctx.url, "admin_user": LOCAL_ADMIN})
