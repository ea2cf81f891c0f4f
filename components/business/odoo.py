"""Odoo 18 Community (official image): ERP on its own PostgreSQL database, login through Keycloak.

- Database: the platform's `odoo` database, owned by `odoo_user` (no CREATEDB). Odoo is pinned to
  it (`db_name`, `dbfilter`, `list_db = False`) and initialises it with `-i` in a one-shot job.
- Configuration: one odoo.conf (a secret upload) holds the database, the master password, SMTP and
  the Keycloak settings. The container runs `odoo` directly instead of the image's entrypoint,
  which copies db_* values from the config file onto the command line (odoo/docker entrypoint.sh).
- SSO: Odoo CE's `auth_oauth` only speaks the implicit flow and ignores groups. A small addon of
  this program (files/odoo/itstack_keycloak) switches its Keycloak links to the authorization-code
  flow with the client secret, creates users on first login and maps the client roles
  odoo-admin / odoo-user / odoo-portal to Administration / internal user / portal.
"""
from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials

HTTP_PORT = 8069
CONF = "/etc/odoo/odoo.conf"
ADDONS_DIR = "/opt/itstack/odoo-addons"
CONFIGURE_SCRIPT = "/opt/itstack/odoo-configure.py"
ADDON = "itstack_keycloak"
MODULES = ("auth_oauth", ADDON)
_FILES = Path(__file__).parent / "files" / "odoo"

ROLE_GROUPS = {"odoo-admin": "odoo-admin", "odoo-user": "odoo-user", "odoo-portal": "odoo-portal"}


def _ini_value(value) -> str:
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ValueError("odoo.conf values are single lines")
    return text


def odoo_conf(options: dict) -> str:
    """odoo.conf: the [options] section; unknown keys (itstack_*) are read by the addon."""
    return "[options]\n" + "".join(f"{k} = {_ini_value(v)}\n" for k, v in options.items() if v is not None)


def addon_uploads() -> list[docker.ContainerUploadArgs]:
    """The addon's files, uploaded one by one under ADDONS_DIR."""
    root = _FILES / ADDON
    return [
        docker.ContainerUploadArgs(file=f"{ADDONS_DIR}/{ADDON}/{p.relative_to(root).as_posix()}",
                                   content=pulumi.Output.secret(p.read_text()))
        for p in sorted(root.rglob("*.py"))
    ]


class Odoo(pulumi.ComponentResource):
    """Odoo on `database`; `oidc` is the Keycloak client plus endpoints (or None: password login)."""

    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        *,
        oidc: dict | None = None,
        smtp: SmtpCredentials | None = None,
        networks: list | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:business:Odoo", "odoo", None, opts)
        if database.engine != "postgresql":
            raise ValueError("Odoo runs on PostgreSQL only")
        self.ctx = ctx
        self.url = ctx.url
        ro = pulumi.ResourceOptions(parent=self)
        self.master_password = random.RandomPassword("odoo-master-password", length=32, special=False, opts=ro)
        self.admin_password = random.RandomPassword("odoo-admin-password", length=32, special=False, opts=ro)
        size = ctx.settings.sizes["odoo"]
        options = {
            "addons_path": f"/mnt/extra-addons,{ADDONS_DIR}",
            "data_dir": "/var/lib/odoo",
            "db_host": database.host,
            "db_port": database.port,
            "db_user": database.user,
            "db_password": database.password,
            "db_name": database.database,
            "dbfilter": f"^{database.database}$",
            "list_db": "False",
            "admin_passwd": self.master_password.result,
            "proxy_mode": "True",  # honour Traefik's X-Forwarded-Proto/Host
            "without_demo": "all",
            "http_port": HTTP_PORT,
            # Threaded mode: HTTP and websocket on one port, so one Traefik route serves both.
            "workers": 0,
            "max_cron_threads": 1,
            "limit_memory_hard": size.memory_mb * 1024 * 1024,
            "itstack_public_url": self.url,
            "itstack_admin_password": self.admin_password.result,
        }
        if smtp is not None:
            options.update({
                "smtp_server": smtp.host,
                "smtp_port": smtp.port,
                "smtp_user": smtp.user,
                "smtp_password": smtp.password,
                "smtp_ssl": "True",  # STARTTLS on 587
                "email_from": smtp.from_address,
            })
        if oidc is not None:
            options.update({
                "itstack_oidc_client_id": oidc["client_id"],
                "itstack_oidc_client_secret": oidc["client_secret"],
                "itstack_oidc_auth_endpoint": oidc["auth_endpoint"],
                "itstack_oidc_token_endpoint": oidc["token_endpoint"],
                "itstack_oidc_userinfo_endpoint": oidc["userinfo_endpoint"],
                "itstack_oidc_redirect_uri": oidc["redirect_uri"],
            })
        keys = list(options)
        conf = pulumi.Output.all(*[pulumi.Output.from_input(options[k]) for k in keys]).apply(
            lambda vals: odoo_conf(dict(zip(keys, vals))))
        self.conf = pulumi.Output.secret(conf)
        uploads = [docker.ContainerUploadArgs(file=CONF, content=self.conf), *addon_uploads()]
        data = ctx.volume(self, "data")
        volumes = [docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/lib/odoo")]
        nets = [database.network] + ([smtp.network] if smtp else []) + list(networks or [])
        image = ctx.image(self)
        # One-shot job: initialise the database (first run) or update the modules, then configure
        # the admin password, system parameters and the OAuth provider. Re-runs when odoo.conf changes.
        init_script = (
            "set -e; "
            f"odoo -c {CONF} -d {database.database} -i {','.join(MODULES)} -u {ADDON} --stop-after-init --no-http; "
            f"odoo shell -c {CONF} -d {database.database} --no-http < {CONFIGURE_SCRIPT}"
        )
        seen: set[int] = set()
        job_nets = []
        for n in [ctx.host.network(ctx.tier)] + [n for n in nets if n is not None]:
            if id(n) not in seen:
                seen.add(id(n))
                job_nets.append(docker.ContainerNetworksAdvancedArgs(name=n.name))
        self.init_job = docker.Container(
            "odoo-init",
            name=f"{ctx.container_name()}-init",
            image=image.image_id,
            entrypoints=["/bin/bash", "-c"],
            command=[init_script],
            uploads=uploads + [docker.ContainerUploadArgs(
                file=CONFIGURE_SCRIPT, content=pulumi.Output.secret((_FILES / "configure.py").read_text()))],
            volumes=volumes,
            attach=True,
            must_run=False,
            logs=True,
            networks_advanced=job_nets,
            labels=[docker.ContainerLabelArgs(label="org.itstack.service", value="odoo"),
                    docker.ContainerLabelArgs(label="org.itstack.role", value="init")],
            opts=ctx.opts(self, depends_on=[database.ready] + ([smtp.ready] if smtp else []),
                          additional_secret_outputs=["uploads"]),
        )
        self.endpoint = ctx.endpoint(HTTP_PORT)
        self.container = ctx.container(
            self,
            entrypoints=["odoo"],
            command=["-c", CONF],
            endpoints=[self.endpoint],
            networks=nets,
            volumes=volumes,
            uploads=uploads,
            # /web/health answers {"status": "pass"} once the HTTP server and registry are up.
            healthcheck=health(
                ["python3 -c \"import sys,urllib.request as u; "
                 f"sys.exit(0 if b'pass' in u.urlopen('http://127.0.0.1:{HTTP_PORT}/web/health', timeout=4).read() else 1)\""],
                start_period="120s",
            ),
            wait_timeout=600,
            depends_on=[self.init_job],
        )
        self.data_volume = data
        self.register_outputs({"url": self.url})


def deploy(platform) -> Odoo:
    ctx = platform.ctx("odoo")
    platform.integrations.use("database:postgresql->odoo")
    database = platform.postgres.database("odoo", ctx.host)
    oidc = None
    networks = []
    client = None
    if platform.integrations.use("sso:keycloak->odoo", client_id="odoo"):
        redirect_uri = f"{ctx.url}/auth_oauth/signin"
        client = platform.keycloak.oidc_client("odoo", redirect_uris=[redirect_uri], web_origins=[ctx.url],
                                               role_groups=ROLE_GROUPS)
        # Browser: the public issuer. Back channel (token, userinfo): Keycloak's own address.
        kc_host, kc_port = platform.keycloak.endpoint.address_for(ctx.host)
        back = f"http://{kc_host}:{kc_port}/realms/{platform.keycloak.realm_name}/protocol/openid-connect"
        oidc = {
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "auth_endpoint": f"{client.issuer}/protocol/openid-connect/auth",
            "token_endpoint": f"{back}/token",
            "userinfo_endpoint": f"{back}/userinfo",
            "redirect_uri": redirect_uri,
        }
        networks.append(platform.keycloak.endpoint.network_for(ctx.host))
    smtp = platform.smtp("odoo", ctx.host)
    erp = Odoo(ctx, database, oidc=oidc, smtp=smtp, networks=networks)
    platform.routes.append(ctx.route(erp.endpoint))
    platform.outputs["odoo"] = {
        "url": erp.url,
        "client_id": client.client_id if client else None,
        "database": {"engine": "postgresql", "name": database.database, "user": database.user},
    }
    return erp
