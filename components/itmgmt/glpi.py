"""GLPI 11: IT service management (itsm.<domain>).

- main       the upstream glpi/glpi image: its entrypoint installs or updates the database from
             GLPI_DB_* (glpi-project/docker-images glpi/files/opt/glpi/entrypoint/install.sh) and
             runs GLPI's cron worker (GLPI_CRONTAB_ENABLED=1)
- configure  one-shot job: url_base, the installer's default accounts (glpi gets a random password,
             tech/normal/post-only are disabled), SMTP, and SAML through the samlSSO plugin
- roles      directory groups glpi-admins / glpi-techs -> GLPI profiles Super-Admin / Technician

SAML: GLPI 11 has no SAML in core; samlSSO (DonutsNL, GLPI 11 only, documented in GLPI's plugin
docs) is pinned by version and SHA-256. Its SP entity id is GLPI's url_base + "/" and its ACS is
<url_base>/marketplace/samlsso/front/acs/<config id> (ConfigEntity::getPhpSamlConfig).
"""
from __future__ import annotations

import json

import pulumi
import pulumi_docker as docker
import pulumi_keycloak as keycloak
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials
from components.identity.freeipa import Directory
from components.itmgmt.common import SamlSso, files, web_endpoint, job, merge_env, upload

HTTP_PORT = 80
SAMLSSO_VERSION = "1.2.7"
# The release archive as committed in the plugin's repository at that tag (release/samlsso.zip).
SAMLSSO_URL = f"https://raw.githubusercontent.com/DonutsNL/samlsso/v{SAMLSSO_VERSION}/release/samlsso.zip"
SAMLSSO_SHA256 = "49aa9584e559c3e47d01bddde0fb536a1153f99126633a5e06dbebf43dada81d"
SAML_CONFIG_ID = 1
ADMIN_ROLE, TECH_ROLE = "glpi-admin", "glpi-tech"
ADMIN_GROUP, TECH_GROUP = "glpi-admins", "glpi-techs"
PROFILES = {ADMIN_GROUP: "Super-Admin", TECH_GROUP: "Technician"}
LOCAL_ADMIN = "glpi"
# samlSSO reads user fields only from these claim-type attribute names (src/LoginFlow/User.php,
# SCHEMA_*), not from Keycloak's Basic names mail/givenName/sn: Keycloak property -> attribute.
CLAIM_NS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
CLAIMS = {"email": f"{CLAIM_NS}/emailaddress", "firstName": f"{CLAIM_NS}/givenname",
          "lastName": f"{CLAIM_NS}/surname"}


def entity_id(ctx: ServiceContext) -> str:
    """samlSSO's SP entity id: $CFG_GLPI['url_base'] . '/'."""
    return f"{ctx.url}/"


def acs_url(ctx: ServiceContext) -> str:
    return f"{ctx.url}/marketplace/samlsso/front/acs/{SAML_CONFIG_ID}"


def claim_mappers(kc, client) -> list[pulumi.Resource]:
    """E-mail and names under the claim URIs samlSSO reads, on GLPI's own SAML client, so users
    created just in time get them."""
    opts = pulumi.ResourceOptions(parent=kc, provider=kc.provider)
    return [
        keycloak.saml.UserPropertyProtocolMapper(
            f"saml-glpi-claim-{prop}",
            realm_id=kc.realm.id,
            client_id=client.id,
            name=f"claim-{prop}",
            user_property=prop,
            saml_attribute_name=uri,
            saml_attribute_name_format="URI Reference",
            opts=opts,
        )
        for prop, uri in CLAIMS.items()
    ]


class Glpi(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        sso: SamlSso | None,
        directory: Directory | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:itmgmt:Glpi", "glpi", None, opts)
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("glpi-admin-password", length=32, special=False, opts=ro)
        data = ctx.volume(self, "data")
        db_env = {
            "GLPI_DB_HOST": database.host,
            "GLPI_DB_PORT": str(database.port),
            "GLPI_DB_NAME": database.database,
            "GLPI_DB_USER": database.user,
            "GLPI_DB_PASSWORD": database.password,
        }
        nets = [database.network] + ([smtp.network] if smtp else []) + ([sso.network] if sso else [])
        network_names: list[str] = []
        if directory is not None:
            if isinstance(directory.network, str):
                network_names.append(directory.network)
            elif directory.network is not None:
                nets.append(directory.network)
        volume = docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/glpi")
        self.endpoint = web_endpoint(ctx, HTTP_PORT)
        self.container = ctx.container(
            self,
            envs=env_list(merge_env(db_env, {"GLPI_CRONTAB_ENABLED": "1"})),
            endpoints=[self.endpoint],
            volumes=[volume],
            networks=nets,
            # The login page renders (GLPI answers and reaches its database).
            healthcheck=health(
                ["curl -fsSL --max-time 4 -o /tmp/login.html http://127.0.0.1/ && grep -qi 'login' /tmp/login.html"],
                start_period="300s", retries=30,
            ),
            wait_timeout=900,
            depends_on=[database.ready] + ([smtp.ready] if smtp else []),
        )

        cfg_env: dict = {
            "ITSTACK_URL": ctx.url,
            "ITSTACK_DOMAIN": ctx.domain,
            "ITSTACK_ADMIN_PASSWORD": self.admin_password.result,
            "ITSTACK_SMTP_ENABLED": "1" if smtp else "0",
            "ITSTACK_SAML_ENABLED": "1" if sso else "0",
        }
        if smtp is not None:
            cfg_env.update({
                "ITSTACK_SMTP_HOST": smtp.host,
                "ITSTACK_SMTP_PORT": str(smtp.port),
                "ITSTACK_SMTP_USER": smtp.user,
                "ITSTACK_SMTP_PASSWORD": smtp.password,
                "ITSTACK_SMTP_FROM": smtp.from_address,
            })
        if sso is not None:
            cfg_env.update({
                "ITSTACK_SAMLSSO_URL": SAMLSSO_URL,
                "ITSTACK_SAMLSSO_SHA256": SAMLSSO_SHA256,
                "ITSTACK_IDP_METADATA_URL": sso.metadata_url,
                "ITSTACK_IDP_ENTITY_ID": sso.client.idp_entity_id,
                "ITSTACK_IDP_SSO_URL": sso.client.idp_sso_url,
            })
        self.configure = job(
            ctx,
            self,
            "configure",
            image_role="main",
            entrypoints=["/bin/bash"],
            command=["/opt/itstack/configure.sh"],
            envs=env_list(merge_env(db_env, cfg_env, {
                "GLPI_CONFIG_DIR": "/var/glpi/config",
                "GLPI_VAR_DIR": "/var/glpi/files",
                "GLPI_LOG_DIR": "/var/glpi/logs",
                "GLPI_MARKETPLACE_DIR": "/var/glpi/marketplace",
            })),
            uploads=[upload("/opt/itstack/configure.sh", files("glpi/configure.sh"), executable=True)],
            volumes=[volume],
            networks=nets,
            network_names=network_names,
            depends_on=[self.container] + ([sso.client.resource] if sso else []),
        )

        self.roles = None
        if directory is not None:
            mapping = {f"cn={group},{directory.groups_dn}": profile for group, profile in PROFILES.items()}
            self.roles = ctx.container(
                self,
                role="roles",
                image_role="main",
                entrypoints=["/bin/bash", "/opt/itstack/roles.sh"],
                envs=env_list(merge_env(db_env, {
                    "ITSTACK_LDAP_URL": directory.ldap_url,
                    "ITSTACK_LDAP_BIND_DN": directory.bind_dn,
                    "ITSTACK_LDAP_BIND_PASSWORD": directory.bind_password,
                    "ITSTACK_LDAP_USERS_DN": directory.users_dn,
                    "ITSTACK_ROLE_MAPPING": json.dumps(mapping, sort_keys=True),
                })),
                uploads=[
                    upload("/opt/itstack/roles.php", files("glpi/roles.php")),
                    upload("/opt/itstack/roles.sh", files("glpi/roles.sh"), executable=True),
                ],
                networks=nets,
                network_names=network_names,
                # A mapping round finished within the last 15 minutes (it runs every 5).
                healthcheck=health(
                    ["test -f /tmp/itstack-last-sync",
                     'test $(( $(date +%s) - $(cat /tmp/itstack-last-sync) )) -lt 900'],
                    interval="30s", start_period="60s", retries=10,
                ),
                depends_on=[self.configure] + ([directory.ready] if directory.ready else []),
            )
        self.register_outputs({"url": ctx.url, "admin_user": LOCAL_ADMIN, "entity_id": entity_id(ctx)})
