"""OpenKM Community Edition 6.3 (official image): document management on its own PostgreSQL database.

OpenKM CE has no OIDC or SAML (those are Professional features), so users log in with OpenKM's
own accounts; see docs/services/business.md for the LDAP option and why it is not wired.

The image is configured the way OpenKM documents it: the Tomcat JNDI data source `jdbc/OpenKMDS`
and mail session `mail/OpenKM` in conf/server.xml, `hibernate.dialect` / `hibernate.hbm2ddl` in
OpenKM.cfg. files/openkm-start.sh edits the image's own files at every start, then runs Tomcat.

The PostgreSQL JDBC driver: Tomcat's container-managed `jdbc/OpenKMDS` loads it from
/opt/tomcat/lib, and images built on openkm/openkm-ce add it there themselves (the image's own
build is not public; we could not see it ship one). The image has no curl or wget, so a one-shot
job in the pinned Odoo image (curl, sha256sum) downloads the pinned driver from Maven Central into
a volume, checked by SHA-256; the start script copies it into Tomcat's lib when none is there.
"""
from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials

HTTP_PORT = 8080
HOME = "/opt/tomcat"
START_SCRIPT = "/opt/itstack/openkm-start.sh"
JDBC_DIR = "/opt/itstack/jdbc"
JDBC_VERSION = "42.7.4"  # pgjdbc 42.7 runs on Java 8, which OpenKM 6.3 needs
JDBC_URL = f"https://repo1.maven.org/maven2/org/postgresql/postgresql/{JDBC_VERSION}/postgresql-{JDBC_VERSION}.jar"
JDBC_SHA256 = "188976721ead8e8627eb6d8389d500dccc0c9bebd885268a3047180274a6031e"
JDBC_JAR = f"postgresql-{JDBC_VERSION}.jar"
# Runs in the Odoo image (curl, sha256sum); as root, since a fresh volume is root's.
JDBC_FETCH_SCRIPT = (
    "set -eu; "
    f'jar="/jdbc/{JDBC_JAR}"; '
    f'if ! echo "{JDBC_SHA256}  $jar" | sha256sum -c - >/dev/null 2>&1; then '
    f'curl -fsSL --max-time 120 -o "$jar.part" "{JDBC_URL}"; '
    f'echo "{JDBC_SHA256}  $jar.part" | sha256sum -c -; '
    'mv "$jar.part" "$jar"; fi; '
    'chmod 0644 "$jar"'
)
_FILES = Path(__file__).parent / "files"

# The image has neither curl nor wget: ask for the login page with bash alone.
LOGIN_PROBE = (
    f"exec 3<>/dev/tcp/127.0.0.1/{HTTP_PORT} && "
    "printf 'GET /OpenKM/login.jsp HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && "
    "head -n1 <&3 | grep -q ' 200'"
)


class OpenKM(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        *,
        smtp: SmtpCredentials | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:business:OpenKM", "openkm", None, opts)
        if database.engine != "postgresql":
            raise ValueError("this OpenKM component is wired for PostgreSQL")
        self.ctx = ctx
        self.url = f"{ctx.url}/OpenKM/"
        heap = max(512, ctx.settings.sizes["openkm"].memory_mb * 3 // 4)
        env = {
            "OPENKM_HOME": HOME,
            "OKM_DB_HOST": database.host,
            "OKM_DB_PORT": str(database.port),
            "OKM_DB_NAME": database.database,
            "OKM_DB_USER": database.user,
            "OKM_DB_PASSWORD": database.password,
            "JAVA_OPTS": f"-Xms256m -Xmx{heap}m -Djava.awt.headless=true",
            "ITSTACK_JDBC_JAR": f"{JDBC_DIR}/{JDBC_JAR}",
        }
        if smtp is not None:
            env.update({
                "OKM_SMTP_HOST": smtp.host,
                "OKM_SMTP_PORT": str(smtp.port),
                "OKM_SMTP_USER": smtp.user,
                "OKM_SMTP_PASSWORD": smtp.password,
                "OKM_SMTP_FROM": smtp.from_address,
            })
        repository = ctx.volume(self, "repository")
        jdbc = ctx.volume(self, "jdbc")
        fetch_image = docker.RemoteImage(
            "openkm-jdbc-fetch-image",
            name=ctx.settings.image("odoo").ref,
            keep_locally=True,
            opts=ctx.opts(self),
        )
        self.jdbc_job = docker.Container(
            "openkm-jdbc",
            name=f"{ctx.container_name()}-jdbc",
            image=fetch_image.image_id,
            entrypoints=["/bin/bash", "-c"],
            command=[JDBC_FETCH_SCRIPT],
            user="root",
            volumes=[docker.ContainerVolumeArgs(volume_name=jdbc.name, container_path="/jdbc")],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=ctx.host.network(ctx.tier).name)],
            attach=True,
            must_run=False,
            logs=True,
            labels=[docker.ContainerLabelArgs(label="org.itstack.service", value="openkm"),
                    docker.ContainerLabelArgs(label="org.itstack.role", value="jdbc")],
            opts=ctx.opts(self),
        )
        self.endpoint = ctx.endpoint(HTTP_PORT, host_port=8380)  # 8080 is SuiteCRM's on lab-biz1
        self.container = ctx.container(
            self,
            entrypoints=["/bin/bash", START_SCRIPT],
            envs=env_list(env),
            endpoints=[self.endpoint],
            networks=[database.network] + ([smtp.network] if smtp else []),
            volumes=[docker.ContainerVolumeArgs(volume_name=repository.name, container_path=f"{HOME}/repository"),
                     docker.ContainerVolumeArgs(volume_name=jdbc.name, container_path=JDBC_DIR, read_only=True)],
            uploads=[docker.ContainerUploadArgs(file=START_SCRIPT, executable=True, content=pulumi.Output.secret(
                (_FILES / "openkm-start.sh").read_text()))],
            # Exec form: the probe's own quotes never pass through a second shell.
            healthcheck=health(["CMD", "bash", "-c", LOGIN_PROBE], interval="15s", retries=20, start_period="300s"),
            wait_timeout=900,
            depends_on=[database.ready, self.jdbc_job] + ([smtp.ready] if smtp else []),
        )
        self.data_volume = repository
        self.register_outputs({"url": self.url})


def deploy(platform) -> OpenKM:
    ctx = platform.ctx("openkm")
    platform.integrations.use("database:postgresql->openkm")
    database = platform.postgres.database("openkm", ctx.host)
    smtp = platform.smtp("openkm", ctx.host)
    dms = OpenKM(ctx, database, smtp=smtp)
    platform.routes.append(ctx.route(dms.endpoint))
    platform.outputs["openkm"] = {
        "url": dms.url,
        "database": {"engine": "postgresql", "name": database.database, "user": database.user},
        "sso": None,  # OpenKM CE: no OIDC/SAML
    }
    return dms
