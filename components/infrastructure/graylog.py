"""Graylog 7.1 Open with its own MongoDB 7 and OpenSearch 2 (it cannot use the shared
Elasticsearch 8: Graylog supports OpenSearch or Elasticsearch <= 7.10 only).

- MongoDB and OpenSearch are Graylog's private data stores. Their only network is an `internal`
  network of their own (no route out) that only Graylog joins; MongoDB still requires a
  password, OpenSearch runs single-node with its security plugin off.
- Graylog: GRAYLOG_PASSWORD_SECRET (random, 64 chars), GRAYLOG_ROOT_PASSWORD_SHA2 (SHA-256 of a
  random root password, computed in an apply), GRAYLOG_HTTP_EXTERNAL_URI https://logs.<domain>/.
  Every GRAYLOG_<KEY> variable is the server.conf key <key> (graylog-docker README).
- Inputs (API): GELF and syslog on UDP and TCP, 12201 and 1514; the TCP ports are published on
  the host address for shippers (Docker's gelf log driver, rsyslog).
- Sign-in: Graylog Open has no OIDC/SAML (Enterprise only). Users sign in with their FreeIPA
  credentials through Graylog's LDAP authentication backend (API), default role Reader.
"""
from __future__ import annotations

import hashlib
from urllib.parse import urlparse

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from components.data.credentials import SmtpCredentials
from components.identity.freeipa import Directory
from components.infrastructure import graylog_api as api

HTTP_PORT = 9000
GELF_PORT = 12201
SYSLOG_PORT = 1514
MONGO_PORT = 27017
OPENSEARCH_PORT = 9200
HOME = "/usr/share/graylog"


class _BackendHost:
    """Graylog's host as its MongoDB and OpenSearch see it: their only network is Graylog's own
    internal backend network (no route out, no other service on it)."""

    def __init__(self, host: HostRuntime, network: docker.Network):
        self._host = host
        self._network = network

    def network(self, tier: str) -> docker.Network:
        return self._network

    def __getattr__(self, name):
        return getattr(self._host, name)


def root_password_sha2(password: str) -> str:
    """Graylog compares the SHA-256 hex of the password, without a trailing newline."""
    return hashlib.sha256(password.encode()).hexdigest()


INPUTS = (
    # (resource key, title, Graylog input class, port)
    ("gelf-udp", "GELF UDP", "org.graylog2.inputs.gelf.udp.GELFUDPInput", GELF_PORT),
    ("gelf-tcp", "GELF TCP", "org.graylog2.inputs.gelf.tcp.GELFTCPInput", GELF_PORT),
    ("syslog-udp", "Syslog UDP", "org.graylog2.inputs.syslog.udp.SyslogUDPInput", SYSLOG_PORT),
    ("syslog-tcp", "Syslog TCP", "org.graylog2.inputs.syslog.tcp.SyslogTCPInput", SYSLOG_PORT),
)


def input_configuration(input_type: str, port: int) -> dict:
    cfg = {"bind_address": "0.0.0.0", "port": port, "recv_buffer_size": 262144, "number_worker_threads": 2}
    if "gelf" in input_type:
        cfg["decompress_size_limit"] = 8388608
    if "syslog" in input_type:
        cfg |= {"allow_override_date": True, "store_full_message": True, "expand_structured_data": False,
                "force_rdns": False}
    if ".tcp." in input_type:
        cfg |= {"tls_enable": False, "use_null_delimiter": "gelf" in input_type, "max_message_size": 2097152}
    return cfg


class Graylog(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        directory: Directory | None = None,
        smtp: SmtpCredentials | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:infrastructure:Graylog", "graylog", None, opts)
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.url = ctx.url
        self.root_password = random.RandomPassword("graylog-root-password", length=32, special=False, opts=ro)
        self.password_secret = random.RandomPassword("graylog-password-secret", length=64, special=False, opts=ro)
        self.mongo_password = random.RandomPassword("graylog-mongodb-password", length=32, special=False, opts=ro)
        size = ctx.settings.sizes["graylog"].memory_mb
        heap = max(512, size // 3)
        self.backend_network = docker.Network(
            "graylog-backend-net",
            name=f"{ctx.host.prefix()}-graylog-backend",
            internal=True,
            labels=[docker.NetworkLabelArgs(label="org.itstack.tier", value="infrastructure")],
            opts=ctx.opts(self),
        )
        backend = ServiceContext(ctx.settings, ctx.service, _BackendHost(ctx.host, self.backend_network), ctx.hosts)

        # MongoDB: Graylog's configuration store.
        self.mongo_endpoint = backend.endpoint(MONGO_PORT, role="mongodb")
        mongo_data = ctx.volume(self, "mongodb")
        self.mongodb = backend.container(
            self,
            role="mongodb",
            envs=env_list({"MONGO_INITDB_ROOT_USERNAME": "graylog", "MONGO_INITDB_ROOT_PASSWORD": self.mongo_password.result}),
            # No `endpoints`: never published, not even on a multi-host stack; Graylog alone reaches it.
            volumes=[docker.ContainerVolumeArgs(volume_name=mongo_data.name, container_path="/data/db")],
            healthcheck=health(
                ['mongosh --quiet -u graylog -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin '
                 '--eval "db.adminCommand({ping: 1}).ok" | grep -q 1'],
                start_period="60s",
            ),
        )

        # OpenSearch: the message store (single node; needs vm.max_map_count >= 262144 on the host).
        self.opensearch_endpoint = backend.endpoint(OPENSEARCH_PORT, role="opensearch")
        os_data = ctx.volume(self, "opensearch")
        self.opensearch = backend.container(
            self,
            role="opensearch",
            envs=env_list(
                {
                    "discovery.type": "single-node",
                    "cluster.name": f"itstack-{ctx.settings.stack}-graylog",
                    "action.auto_create_index": "false",
                    "plugins.security.disabled": "true",
                    "DISABLE_SECURITY_PLUGIN": "true",
                    "DISABLE_INSTALL_DEMO_CONFIG": "true",
                    "bootstrap.memory_lock": "false",
                    "OPENSEARCH_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
                }
            ),
            volumes=[docker.ContainerVolumeArgs(volume_name=os_data.name, container_path="/usr/share/opensearch/data")],
            healthcheck=health(
                ['curl -fsS "http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=4s" | grep -q cluster_name'],
                start_period="90s",
            ),
            wait_timeout=600,
        )

        # Graylog itself.
        self.endpoint = ctx.endpoint(HTTP_PORT, published=True)
        self.gelf_endpoint = ctx.endpoint(GELF_PORT, published=True)
        self.syslog_endpoint = ctx.endpoint(SYSLOG_PORT, published=True)
        # UDP twins: Docker's gelf log driver and syslog senders fire and forget, so a Graylog
        # restart never blocks the containers that log to it.
        self.gelf_udp_endpoint = ctx.endpoint(GELF_PORT, published=True, protocol="udp")
        self.syslog_udp_endpoint = ctx.endpoint(SYSLOG_PORT, published=True, protocol="udp")
        mongo_uri = pulumi.Output.secret(self.mongo_password.result).apply(
            lambda pw: f"mongodb://graylog:{pw}@{self.mongo_endpoint.container_name}:{MONGO_PORT}/graylog?authSource=admin"
        )
        env = {
            "GRAYLOG_PASSWORD_SECRET": self.password_secret.result,
            "GRAYLOG_ROOT_PASSWORD_SHA2": pulumi.Output.secret(self.root_password.result).apply(root_password_sha2),
            "GRAYLOG_ROOT_USERNAME": api.ROOT_USER,
            "GRAYLOG_HTTP_BIND_ADDRESS": f"0.0.0.0:{HTTP_PORT}",
            "GRAYLOG_HTTP_EXTERNAL_URI": f"{self.url}/",
            "GRAYLOG_ELASTICSEARCH_HOSTS": f"http://{self.opensearch_endpoint.container_name}:{OPENSEARCH_PORT}",
            "GRAYLOG_MONGODB_URI": mongo_uri,
            "GRAYLOG_MESSAGE_JOURNAL_MAX_SIZE": "1gb",
            "GRAYLOG_SERVER_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
            "GRAYLOG_ROOT_TIMEZONE": "UTC",
        }
        if smtp is not None:
            env |= {
                "GRAYLOG_TRANSPORT_EMAIL_ENABLED": "true",
                "GRAYLOG_TRANSPORT_EMAIL_HOSTNAME": smtp.host,
                "GRAYLOG_TRANSPORT_EMAIL_PORT": str(smtp.port),
                "GRAYLOG_TRANSPORT_EMAIL_USE_AUTH": "true",
                "GRAYLOG_TRANSPORT_EMAIL_USE_TLS": "true",
                "GRAYLOG_TRANSPORT_EMAIL_USE_SSL": "false",
                "GRAYLOG_TRANSPORT_EMAIL_AUTH_USERNAME": smtp.user,
                "GRAYLOG_TRANSPORT_EMAIL_AUTH_PASSWORD": smtp.password,
                "GRAYLOG_TRANSPORT_EMAIL_FROM_EMAIL": smtp.from_address,
                "GRAYLOG_TRANSPORT_EMAIL_WEB_INTERFACE_URL": self.url,
            }
        data = ctx.volume(self, "data")
        networks = [self.backend_network]
        network_names = []
        depends = [self.mongodb, self.opensearch]
        if smtp is not None:
            networks.append(smtp.network)
            depends.append(smtp.ready)
        if directory is not None:
            if isinstance(directory.network, docker.Network):
                networks.append(directory.network)
            elif isinstance(directory.network, str):
                network_names.append(directory.network)
        self.container = ctx.container(
            self,
            envs=env_list(env),
            endpoints=[self.endpoint, self.gelf_endpoint, self.syslog_endpoint, self.gelf_udp_endpoint,
                       self.syslog_udp_endpoint],
            networks=networks,
            network_names=network_names,
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path=f"{HOME}/data")],
            healthcheck=health([f"curl -fsS --max-time 4 http://127.0.0.1:{HTTP_PORT}/api/system/lbstatus | grep -q ALIVE"],
                               start_period="120s"),
            wait_timeout=600,
            depends_on=depends,
        )
        host, port = self.endpoint.admin_address
        self.api_url = self.container.name.apply(lambda _: f"http://{host}:{port}")
        common = {"api_url": self.api_url, "root_password": self.root_password.result}

        self.inputs = {
            key: api.GraylogInput(f"graylog-input-{key}", **common, title=title, input_type=cls,
                                  configuration=input_configuration(cls, port), opts=ro)
            for key, title, cls, port in INPUTS
        }

        self.ldap = None
        if directory is not None:
            parsed = urlparse(directory.ldap_url)
            deps = [self.container] + ([directory.ready] if directory.ready else [])
            self.ldap = api.GraylogLdapBackend(
                "graylog-ldap",
                **common,
                title="FreeIPA",
                ldap_host=parsed.hostname,
                ldap_port=parsed.port or (636 if parsed.scheme == "ldaps" else 389),
                transport_security="tls" if parsed.scheme == "ldaps" else "none",
                bind_dn=directory.bind_dn,
                bind_password=directory.bind_password,
                users_dn=directory.users_dn,
                default_roles=["Reader"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )
        self.register_outputs({"url": self.url, "api_url": self.api_url})

    def gelf_address(self) -> str:
        """Where a Docker daemon on any host sends GELF: the published UDP port (a TCP address
        would make Docker refuse to start a container while Graylog is down)."""
        host, port = self.gelf_udp_endpoint.admin_address
        return f"udp://{host}:{port}"

    def syslog_address(self) -> str:
        host, port = self.syslog_endpoint.admin_address
        return f"tcp://{host}:{port}"
