"""SuiteCRM 8 (Bitnami image): CRM on its own MariaDB database, SAML 2.0 login through Keycloak.

App-side configuration, all read from upstream sources (docs/services/business.md lists them):
- Database, first admin, public host and SMTP: the Bitnami image's SUITECRM_* variables
  (bitnami/containers, bitnami/suitecrm/8/debian-12 libsuitecrm.sh and README). They drive the
  first-run installer only; afterwards SuiteCRM reads its own config files in the volume.
- SAML: SuiteCRM 8.7+ configures nbgrp/onelogin-saml-bundle from SAML_* variables and switches
  the login with AUTH_TYPE=saml (SuiteCRM-Core 8.8.0 .env, config/packages/nbgrp_onelogin_saml.yaml,
  config/packages/security.php). security.php reads them from $_ENV, which Symfony's Dotenv fills
  from .env files, not from the process environment under Apache's mod_php, so they are written to
  .env.local (the file the SuiteCRM docs name) by the container's start script on every start.
"""
from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials

HTTP_PORT = 8080
# The bootstrap admin's user name equals FreeIPA's built-in `admin`, so the directory's admin
# signs in over SAML as SuiteCRM's administrator (SAML-created users are never admins).
ADMIN_USER = "admin"
START_SCRIPT = "/opt/itstack/suitecrm-start.sh"
ENV_BLOCK = "/opt/itstack/suitecrm.env.local"
OVERRIDE_BLOCK = "/opt/itstack/config_override.php"
_FILES = Path(__file__).parent / "files"

# SAML attribute (as Keycloak's mappers name it) -> SuiteCRM user field, for auto-created users.
ATTRIBUTE_MAP = {"mail": "email1", "givenName": "first_name", "sn": "last_name"}


def _pem_body(cert: str | None) -> str:
    """A certificate as onelogin wants it: the base64 body on one line."""
    if not cert:
        return ""
    lines = [l.strip() for l in cert.strip().splitlines() if l.strip() and not l.startswith("-----")]
    return "".join(lines)


def env_block(*, site_url: str, saml: dict | None) -> str:
    """The itstack block of SuiteCRM's .env.local. `saml`: IdP and SP settings, or None (native login)."""
    lines = ["# >>> itstack: managed by the itstack Pulumi program, rewritten on every start",
             f"SITE_URL={site_url}"]
    if saml is None:
        lines.append("AUTH_TYPE=native")
    else:
        lines += [
            "AUTH_TYPE=saml",
            # Keycloak's mappers set the attribute Name (no FriendlyName): match on the name.
            "SAML_USERNAME_ATTRIBUTE=uid",
            "SAML_USE_ATTRIBUTE_FRIENDLY_NAME=false",
            "SAML_AUTO_CREATE=enabled",
            f"SAML_AUTOCREATE_ATTRIBUTES_MAP='{json.dumps(ATTRIBUTE_MAP, separators=(',', ':'))}'",
            f"SAML_IDP_ENTITY_ID={saml['idp_entity_id']}",
            f"SAML_IDP_SSO_URL={saml['idp_sso_url']}",
            f"SAML_IDP_SLO_URL={saml['idp_sso_url']}",
            f"SAML_IDP_X509CERT={saml['idp_cert']}",
            f"SAML_SP_ENTITY_ID={saml['sp_entity_id']}",
            # Keycloak signs documents and assertions (RSA_SHA256): require both.
            "SAML_STRICT=true",
            "SAML_WANT_MESSAGES_SIGNED=true",
            "SAML_WANT_ASSERTIONS_SIGNED=true",
            "SAML_WANT_NAME_ID=true",
        ]
    lines.append("# <<< itstack")
    return "\n".join(lines) + "\n"


def override_block(site_url: str, host: str) -> str:
    """Legacy (public/legacy) settings: links in mails and legacy views use site_url; sessions are
    not bound to the client IP (every request reaches Apache from Traefik)."""
    return (
        "# >>> itstack: managed by the itstack Pulumi program, rewritten on every start\n"
        f"$sugar_config['site_url'] = {json.dumps(site_url)};\n"
        f"$sugar_config['host_name'] = {json.dumps(host)};\n"
        # Traefik forwards from its own address, not the user's: don't pin sessions to an IP.
        "$sugar_config['verify_client_ip'] = false;\n"
        "# <<< itstack\n"
    )


class SuiteCRM(pulumi.ComponentResource):
    """SuiteCRM on `database` (MariaDB). With `saml_client` (a Keycloak SAML client whose client id
    is the SP entity id below) logins go through Keycloak; with `smtp`, mail goes through iRedMail."""

    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        *,
        saml_client=None,
        idp_certificate: pulumi.Input[str] | None = None,
        smtp: SmtpCredentials | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:business:SuiteCRM", "suitecrm", None, opts)
        if database.engine != "mariadb":
            raise ValueError("SuiteCRM needs MariaDB/MySQL (itstack-spec §4.8)")
        self.ctx = ctx
        self.url = ctx.url
        self.sp_entity_id = sp_entity_id(ctx.url)
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("suitecrm-admin-password", length=32, special=False, opts=ro)
        env = {
            "SUITECRM_DATABASE_HOST": database.host,
            "SUITECRM_DATABASE_PORT_NUMBER": str(database.port),
            "SUITECRM_DATABASE_NAME": database.database,
            "SUITECRM_DATABASE_USER": database.user,
            "SUITECRM_DATABASE_PASSWORD": database.password,
            "SUITECRM_USERNAME": ADMIN_USER,
            "SUITECRM_PASSWORD": self.admin_password.result,
            "SUITECRM_EMAIL": f"{ADMIN_USER}@{ctx.domain}",
            "SUITECRM_HOST": ctx.fqdn,
            # "no": the image's SMTP wizard would speak https to Apache's plain-HTTP port otherwise
            # (libsuitecrm.sh); the public https URL is set by the start script instead.
            "SUITECRM_ENABLE_HTTPS": "no",
            # No SUITECRM_VALIDATE_USER_IP: the image validates it as true|false (anything else stops
            # the container) and uses it for SuiteCRM 7 only; override_block() sets verify_client_ip.
        }
        if smtp is not None:
            env.update({
                "SUITECRM_SMTP_HOST": smtp.host,
                "SUITECRM_SMTP_PORT_NUMBER": str(smtp.port),
                "SUITECRM_SMTP_USER": smtp.user,
                "SUITECRM_SMTP_PASSWORD": smtp.password,
                "SUITECRM_SMTP_PROTOCOL": "tls",  # STARTTLS on 587
                "SUITECRM_SMTP_NOTIFY_ADDRESS": smtp.from_address,
                "SUITECRM_SMTP_NOTIFY_NAME": "SuiteCRM",
            })
        if saml_client is not None:
            saml = pulumi.Output.from_input(idp_certificate or "").apply(lambda cert: {
                "idp_entity_id": saml_client.idp_entity_id,
                "idp_sso_url": saml_client.idp_sso_url,
                "idp_cert": _pem_body(cert),
                "sp_entity_id": self.sp_entity_id,
            })
            env_file = saml.apply(lambda s: env_block(site_url=self.url, saml=s))
        else:
            env_file = pulumi.Output.from_input(env_block(site_url=self.url, saml=None))
        self.env_file = env_file
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(HTTP_PORT)
        # SAML on: the SP metadata proves Symfony, the SAML bundle and its settings answer.
        # Native login: the login page.
        probe = (f"curl -fsS --max-time 4 http://127.0.0.1:{HTTP_PORT}/saml/metadata | grep -q EntityDescriptor"
                 if saml_client is not None else
                 f"curl -fsSL --max-time 4 http://127.0.0.1:{HTTP_PORT}/ | grep -qi suitecrm")
        self.container = ctx.container(
            self,
            entrypoints=["/bin/bash", START_SCRIPT],
            envs=env_list(env),
            endpoints=[self.endpoint],
            networks=[database.network] + ([smtp.network] if smtp else []),
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/bitnami/suitecrm")],
            uploads=[
                docker.ContainerUploadArgs(file=START_SCRIPT, executable=True, content=pulumi.Output.secret(
                    (_FILES / "suitecrm-start.sh").read_text())),
                docker.ContainerUploadArgs(file=ENV_BLOCK, content=pulumi.Output.secret(env_file)),
                docker.ContainerUploadArgs(file=OVERRIDE_BLOCK, content=pulumi.Output.secret(
                    override_block(self.url, ctx.fqdn))),
            ],
            # The first start runs SuiteCRM's installer against the empty database: minutes.
            healthcheck=health([probe], interval="15s", retries=20, start_period="600s"),
            wait_timeout=1200,
            depends_on=[database.ready] + ([smtp.ready] if smtp else []),
        )
        self.data_volume = data
        self.register_outputs({"url": self.url, "sp_entity_id": self.sp_entity_id})


def sp_entity_id(url: str) -> str:
    """The SP entity id SuiteCRM sends: SAML_SP_ENTITY_ID, set to its metadata URL."""
    return f"{url}/saml/metadata"


def deploy(platform) -> SuiteCRM:
    ctx = platform.ctx("suitecrm")
    platform.integrations.use("database:mariadb->suitecrm")
    database = platform.mariadb.database("suitecrm", ctx.host)
    saml_client = cert = None
    if platform.integrations.use("sso:keycloak->suitecrm", client_id=sp_entity_id(ctx.url)):
        saml_client = platform.keycloak.saml_client(
            sp_entity_id(ctx.url),
            acs_url=f"{ctx.url}/saml/acs",
            # No SLO URL: SuiteCRM does not accept POST-bound logout (its docs' SAML limits) and
            # Keycloak's clients here force POST binding.
            role_groups={"suitecrm-admin": "suitecrm-admin"},
        )
        cert = platform.keycloak.signing_certificate
    smtp = platform.smtp("suitecrm", ctx.host)
    crm = SuiteCRM(ctx, database, saml_client=saml_client, idp_certificate=cert, smtp=smtp)
    platform.routes.append(ctx.route(crm.endpoint))
    platform.outputs["suitecrm"] = {
        "url": crm.url,
        "saml_entity_id": crm.sp_entity_id if saml_client else None,
        "database": {"engine": "mariadb", "name": database.database, "user": database.user},
        "admin_user": ADMIN_USER,
    }
    return crm
