"""Jitsi Meet (docker-jitsi-meet images: web, prosody, jicofo, jvb) with Keycloak sign-in.

Four containers on the collaboration network of one host; the web container is the only HTTP
route (Traefik terminates TLS, DISABLE_HTTPS=1); media goes straight to the videobridge on UDP
10000, published on the host's address.

Authentication (docker-jitsi-meet stable-10888, prosody/rootfs/defaults/conf.d/jitsi-meet.cfg.lua
and jicofo.conf): ENABLE_AUTH=1 with AUTH_TYPE=jwt makes Prosody's `token` authentication check
HS256 tokens signed with JWT_APP_SECRET, with `iss` in JWT_ACCEPTED_ISSUERS and `aud` in
JWT_ACCEPTED_AUDIENCES, and a `room` claim; ENABLE_GUESTS=1 lets people without a token join a
meeting once a signed-in user has opened it. Keycloak cannot mint such tokens (it signs with its
realm keys, and Prosody's public-key mode expects `<server>/<sha256(kid)>.pem`, not a JWKS), and
it cannot redirect with `?jwt=`. So a small bridge, our own Prosody HTTP module
(files/mod_itstack_oidc.lua), runs the OIDC authorization-code flow against Keycloak (client
`jitsi`, confidential) and hands the browser a Jitsi token: TOKEN_AUTH_URL points the web app at
it, and the web container's nginx (which includes /config/nginx-custom/*.conf) proxies /oidc/
to Prosody's HTTP port.
"""
from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.collaboration.common import KeycloakView

WEB_PORT = 80
PROSODY_HTTP_PORT = 5280
JVB_UDP_PORT = 10000
APP_ID = "jitsi"
XMPP_DOMAIN = "meet.jitsi"  # internal XMPP domain (image default); never seen by users
MODULE_NAME = "itstack_oidc"
MODULE_FILE = Path(__file__).with_name("files") / f"mod_{MODULE_NAME}.lua"
NGINX_CONF = "/config/nginx-custom/itstack-oidc.conf"
# Client role -> FreeIPA group: who may sign in and open meetings.
ROLE_GROUPS = {"moderator": "ipausers"}
REQUIRED_ROLE = "moderator"


def bridge_module() -> str:
    return MODULE_FILE.read_text()


def nginx_conf(prosody_name: str) -> str:
    return (
        "# Written by itstack (components/collaboration/jitsi.py): the OIDC token bridge in Prosody.\n"
        "location ^~ /oidc/ {\n"
        f"    proxy_pass http://{prosody_name}:{PROSODY_HTTP_PORT}/oidc/;\n"
        f"    proxy_set_header Host {XMPP_DOMAIN};\n"
        "    proxy_set_header X-Forwarded-For $remote_addr;\n"
        "}\n"
    )


class Jitsi(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        keycloak: KeycloakView,
        client_id: str,
        client_secret: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:collaboration:Jitsi", "jitsi", None, opts)
        # Media: UDP straight to the videobridge on the host's address (no proxy in between).
        self.jvb_endpoint = ctx.endpoint(JVB_UDP_PORT, role="jvb", published=True, protocol="udp")
        self.udp_port = self.jvb_endpoint.published
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.jicofo_password = random.RandomPassword("jitsi-jicofo-password", length=32, special=False, opts=ro)
        self.jvb_password = random.RandomPassword("jitsi-jvb-password", length=32, special=False, opts=ro)
        self.app_secret = random.RandomPassword("jitsi-jwt-app-secret", length=48, special=False, opts=ro)
        self.sso = client_secret is not None

        prosody_name = ctx.container_name("prosody")
        jvb_name = ctx.container_name("jvb")
        common = {
            "XMPP_DOMAIN": XMPP_DOMAIN,
            "XMPP_SERVER": prosody_name,
            "PUBLIC_URL": ctx.url,
            "TZ": "UTC",
        }
        # Same authentication settings on web, prosody and jicofo.
        auth = {"ENABLE_AUTH": "1", "ENABLE_GUESTS": "1", "AUTH_TYPE": "jwt"} if self.sso else {"ENABLE_AUTH": "0"}

        def only(env: dict, *unread: str) -> dict:
            """`env` without the names this image's templates never read (stable-10888)."""
            return {k: v for k, v in env.items() if k not in unread}

        prosody_env: dict[str, pulumi.Input[str]] = {
            **common, **auth,
            "JICOFO_AUTH_PASSWORD": self.jicofo_password.result,
            "JVB_AUTH_PASSWORD": self.jvb_password.result,
        }
        prosody_uploads = []
        if self.sso:
            prosody_env.update(
                {
                    "JWT_APP_ID": APP_ID,
                    "JWT_APP_SECRET": self.app_secret.result,
                    "JWT_ACCEPTED_ISSUERS": APP_ID,
                    "JWT_ACCEPTED_AUDIENCES": APP_ID,
                    "XMPP_MODULES": MODULE_NAME,
                    "ITSTACK_OIDC_AUTH_URL": keycloak.auth_endpoint,
                    "ITSTACK_OIDC_TOKEN_URL": keycloak.token_endpoint,
                    "ITSTACK_OIDC_USERINFO_URL": keycloak.userinfo_endpoint,
                    "ITSTACK_OIDC_CLIENT_ID": client_id,
                    "ITSTACK_OIDC_CLIENT_SECRET": client_secret,
                    "ITSTACK_OIDC_REQUIRED_ROLE": REQUIRED_ROLE,
                }
            )
            prosody_uploads.append(
                docker.ContainerUploadArgs(
                    file=f"/prosody-plugins-custom/mod_{MODULE_NAME}.lua", content=pulumi.Output.secret(bridge_module())
                )
            )
        self.prosody = ctx.container(
            self,
            role="prosody",
            envs=env_list(prosody_env),
            uploads=prosody_uploads,
            networks=[keycloak.network],
            healthcheck=health([f"curl -fsS --max-time 4 http://127.0.0.1:{PROSODY_HTTP_PORT}/health"]),
        )
        self.jicofo = ctx.container(
            self,
            role="jicofo",
            envs=env_list(only({**common, **auth, "JICOFO_AUTH_PASSWORD": self.jicofo_password.result},
                               "ENABLE_GUESTS", "PUBLIC_URL")),
            healthcheck=health(["curl -fsS --max-time 4 http://127.0.0.1:8888/about/health"], start_period="60s"),
            depends_on=[self.prosody],  # jicofo logs in to Prosody as focus@auth.meet.jitsi
        )
        advertise = ctx.host.address + ("" if self.udp_port == JVB_UDP_PORT else f"#{self.udp_port}")
        self.jvb = ctx.container(
            self,
            role="jvb",
            endpoints=[self.jvb_endpoint],
            envs=env_list(
                {
                    **only(common, "XMPP_DOMAIN"),
                    "JVB_AUTH_PASSWORD": self.jvb_password.result,
                    "JVB_PORT": str(JVB_UDP_PORT),
                    # The address (and, with a port offset, the port) browsers send media to.
                    "JVB_ADVERTISE_IPS": advertise,
                    "ENABLE_COLIBRI_WEBSOCKET": "1",
                    "JVB_WS_SERVER_ID": jvb_name,
                }
            ),
            healthcheck=health(["curl -fsS --max-time 4 http://127.0.0.1:8080/about/health"], start_period="60s"),
            depends_on=[self.prosody],
        )
        self.web_endpoint = ctx.endpoint(WEB_PORT, role="web", host_port=8280)  # 80 is Nextcloud's on lab-app1
        # The web image talks to Prosody through XMPP_BOSH_URL_BASE, not XMPP_SERVER, and its
        # authentication needs only ENABLE_AUTH/ENABLE_GUESTS and TOKEN_AUTH_URL.
        web_env: dict[str, pulumi.Input[str]] = {
            **only({**common, **auth}, "XMPP_SERVER", "AUTH_TYPE"),
            "DISABLE_HTTPS": "1",
            "ENABLE_HTTP_REDIRECT": "0",
            "XMPP_BOSH_URL_BASE": f"http://{prosody_name}:{PROSODY_HTTP_PORT}",
            # meet.conf adds the /colibri-ws/ proxy only with this on (its default is 0).
            "ENABLE_COLIBRI_WEBSOCKET": "1",
            "COLIBRI_WEBSOCKET_REGEX": jvb_name.replace(".", "\\."),
        }
        web_uploads = []
        if self.sso:
            web_env["TOKEN_AUTH_URL"] = f"{ctx.url}/oidc/login?room={{room}}"
            web_uploads.append(
                docker.ContainerUploadArgs(file=NGINX_CONF, content=pulumi.Output.secret(nginx_conf(prosody_name)))
            )
        self.web = ctx.container(
            self,
            role="web",
            # No credential in here, but stored as a secret like every env list (foundation rule).
            envs=pulumi.Output.secret(env_list(web_env)),
            endpoints=[self.web_endpoint],
            uploads=web_uploads,
            healthcheck=health([f"curl -fsS --max-time 4 http://127.0.0.1:{WEB_PORT}/ | grep -q -i 'jitsi'"]),
            depends_on=[self.prosody],
        )
        self.register_outputs({"url": ctx.url, "jvb_udp": f"{ctx.host.address}:{self.udp_port}"})
