"""The IT-Stack service catalogue: what each service is, where it runs, what it needs.

Facts here come from ../shared/research/itstack-spec.md (§1.1 master table, §4.1 hosts,
§4.8 database engine per service). Everything a stack can change lives in settings.py;
this module holds the defaults and the fixed wiring.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# The tiers, in the seed's grouping; each tier gets its own Docker network per host.
TIERS = (
    "identity",
    "data",
    "collaboration",
    "communications",
    "business",
    "itmgmt",
    "infrastructure",
)

# IT-Stack's 8-server layout (itstack-spec.md §4.1).
ITSTACK_HOSTS = (
    "lab-id1",
    "lab-db1",
    "lab-app1",
    "lab-comm1",
    "lab-proxy1",
    "lab-pbx1",
    "lab-biz1",
    "lab-mgmt1",
)


@dataclass(frozen=True)
class Size:
    memory_mb: int
    cpus: float


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    tier: str
    default_host: str
    # Images this service runs, by role ("main" for single-container services).
    # Each value is "repository:tag" or "repository:tag@sha256:...".
    images: dict[str, str]
    size: Size
    # Services that must be enabled for this one to work (a hard dependency).
    requires: tuple[str, ...] = ()
    # Public host name under the stack domain, when the service has a web route.
    subdomain: str | None = None
    # Logical Redis database index, fixed so adding a consumer never reshuffles others.
    redis_db: int | None = None
    description: str = ""


def _s(name, tier, host, images, mem, cpus, requires=(), subdomain=None, redis_db=None, description=""):
    return ServiceSpec(
        name=name,
        tier=tier,
        default_host=host,
        images=images,
        size=Size(mem, cpus),
        requires=tuple(requires),
        subdomain=subdomain,
        redis_db=redis_db,
        description=description,
    )


# Default images are the upstream official ones, pinned by tag; by digest too where a public,
# checkable tag@digest pair was found offline (docs/image-pins.md lists the sources). The stack
# exports `unpinned_images`, and a stack with requireImageDigests=true refuses any image
# without a digest: set it with itstack:images.<service> once you can inspect the registry.
SERVICES: dict[str, ServiceSpec] = {
    s.name: s
    for s in (
        # identity
        _s("freeipa", "identity", "lab-id1", {"main": "freeipa/freeipa-server:almalinux-9-4.12.2"}, 3072, 2,
           subdomain="ipa", description="LDAP directory and Kerberos (source of users and groups)"),
        _s("keycloak", "identity", "lab-id1", {"main": "quay.io/keycloak/keycloak:26.4.7@sha256:9409c59bdfb65dbffa20b11e6f18b8abb9281d480c7ca402f51ed3d5977e6007"}, 2048, 2,
           requires=("postgresql", "freeipa"), subdomain="sso", description="SSO broker, realm it-stack"),
        # data
        _s("postgresql", "data", "lab-db1", {"main": "postgres:16.15-bookworm@sha256:efedf3595f1d6f415c08568ba171029bf54052e754cc9f030e3f2412b21f3d67"}, 2048, 2,
           description="PostgreSQL 16, one database and role per consumer"),
        _s("mariadb", "data", "lab-db1", {"main": "mariadb:11.4.12@sha256:b822597b1c5225aa3b891b1b16cd5ef666b3b419614730fd19a7f4056bc3f776"}, 1024, 1,
           description="MariaDB for SuiteCRM, GLPI, Snipe-IT and FreePBX"),
        _s("redis", "data", "lab-db1", {"main": "redis:7.4.11-alpine@sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf"}, 768, 1,
           description="Redis 7, one ACL user and logical database per consumer"),
        _s("elasticsearch", "data", "lab-db1",
           {"main": "docker.elastic.co/elasticsearch/elasticsearch:8.19.19"}, 2048, 2,
           description="Elasticsearch 8 for Zammad's full-text search"),
        # collaboration
        _s("nextcloud", "collaboration", "lab-app1", {"main": "nextcloud:33.0.9-apache@sha256:a9c67df3715d162834cf294970295c475d3332709e96cd69f864e7dac55dce6f"}, 2048, 2,
           requires=("postgresql", "redis", "keycloak"), subdomain="cloud", redis_db=1),
        _s("mattermost", "collaboration", "lab-app1",
           {"main": "mattermost/mattermost-team-edition:10.5.2"}, 2048, 2,
           requires=("postgresql", "keycloak"), subdomain="chat"),
        _s("jitsi", "collaboration", "lab-app1",
           {"web": "jitsi/web:stable-10888", "prosody": "jitsi/prosody:stable-10888",
            "jicofo": "jitsi/jicofo:stable-10888", "jvb": "jitsi/jvb:stable-10888"}, 2048, 2,
           requires=("keycloak",), subdomain="meet"),
        # communications
        _s("iredmail", "communications", "lab-comm1", {"main": "iredmail/mariadb:stable"}, 2048, 2,
           subdomain="mail"),
        _s("zammad", "communications", "lab-comm1", {"main": "ghcr.io/zammad/zammad:6.5.2"}, 2048, 2,
           requires=("postgresql", "redis", "elasticsearch", "keycloak"), subdomain="desk", redis_db=3),
        _s("freepbx", "communications", "lab-pbx1", {"main": "tiredofit/freepbx:5.2.0"}, 2048, 2,
           requires=("mariadb", "freeipa"), subdomain="pbx"),
        # business
        _s("suitecrm", "business", "lab-biz1", {"main": "bitnamilegacy/suitecrm:8.8.0"}, 2048, 2,
           requires=("mariadb", "keycloak"), subdomain="crm"),
        _s("odoo", "business", "lab-biz1", {"main": "odoo:18.0@sha256:07ccc8963845e014688cd56b39380a33bda36f827f42f5a5514c7397ffa01132"}, 3072, 2,
           requires=("postgresql", "keycloak"), subdomain="erp"),
        _s("openkm", "business", "lab-biz1", {"main": "openkm/openkm-ce:6.3.12"}, 2048, 2,
           requires=("postgresql",), subdomain="dms"),
        # IT management
        _s("taiga", "itmgmt", "lab-mgmt1",
           {"back": "taigaio/taiga-back:6.9.0", "front": "taigaio/taiga-front:6.9.0",
            "events": "taigaio/taiga-events:6.9.0", "protected": "taigaio/taiga-protected:6.8.1",
            "rabbitmq": "rabbitmq:3.13.7-alpine"}, 1024, 1,
           requires=("postgresql", "keycloak"), subdomain="pm"),
        _s("snipeit", "itmgmt", "lab-mgmt1", {"main": "snipe/snipe-it:v8.7.2"}, 1024, 1.5,
           requires=("mariadb", "keycloak"), subdomain="assets"),
        _s("glpi", "itmgmt", "lab-mgmt1", {"main": "glpi/glpi:11.0.8"}, 1024, 1.5,
           requires=("mariadb", "keycloak"), subdomain="itsm"),
        # infrastructure
        _s("traefik", "infrastructure", "lab-proxy1", {"main": "traefik:v3.7.13@sha256:24841fe2de7304c149343d877d2923b4c8800a38ba015dea9174c23b20e344a0"}, 512, 1,
           subdomain="proxy", description="Edge proxy, TLS, routes for every web service"),
        _s("zabbix", "infrastructure", "lab-comm1",
           {"server": "zabbix/zabbix-server-pgsql:alpine-7.0.28", "web": "zabbix/zabbix-web-nginx-pgsql:alpine-7.0.28",
            "agent": "zabbix/zabbix-agent2:alpine-7.0.28"}, 1536, 2,
           requires=("postgresql",), subdomain="monitor"),
        _s("graylog", "infrastructure", "lab-proxy1",
           {"main": "graylog/graylog:7.1.6", "mongodb": "mongo:7.0.39@sha256:35a5926f71f8b6cb19206bee928c5a85f241a8be99f20c81abe35ae78a73415d",
            "opensearch": "opensearchproject/opensearch:2.14.0@sha256:466a49f379bb8889af29d615475e69b7b990898c6987d28470cd7105df9046ff"}, 3072, 2,
           subdomain="logs"),
    )
}

SERVICE_NAMES = tuple(SERVICES)

# Services of the foundation (identity, data and edge tiers): a stack may enable just these.
FOUNDATION = ("freeipa", "keycloak", "postgresql", "mariadb", "redis", "elasticsearch", "traefik")


def services_in_tier(tier: str) -> list[str]:
    return [s.name for s in SERVICES.values() if s.tier == tier]


@dataclass(frozen=True)
class HostDefaults:
    """A prod host of the 8-server layout, reached over ssh by default."""

    name: str
    address: str
    docker_host: str = field(default="")


ITSTACK_ADDRESSES = {
    "lab-id1": "10.0.50.11",
    "lab-db1": "10.0.50.12",
    "lab-app1": "10.0.50.13",
    "lab-comm1": "10.0.50.14",
    "lab-proxy1": "10.0.50.15",
    "lab-pbx1": "10.0.50.16",
    "lab-biz1": "10.0.50.17",
    "lab-mgmt1": "10.0.50.18",
}


@dataclass(frozen=True)
class HostPort:
    """A port a service binds on its host's address, as written before the host's portOffset.

    settings.py checks these per host address before any resource exists (two services, or two
    hosts sharing an address, never claim one port; no port beyond 65535 after the offset);
    components/base.py `HostRuntime.claim_port` stays as the last-resort assertion. A unit test
    (tests/test_settings.py) holds this table against what the components publish under mocks.
    """

    port: int
    protocol: str = "tcp"
    role: str = "main"
    # True: published on every stack (the engine's providers or outside clients connect there).
    # False: only on a multi-host stack, where every endpoint is reached by its host's address.
    always: bool = False
    # Claimed on the host by the component although no container binds it (the endpoint only
    # names a backend container); kept here so settings refuses what claim_port would refuse.
    claim_only: bool = False


def _ports(*ports: HostPort) -> tuple[HostPort, ...]:
    return tuple(ports)


_RTP = tuple(HostPort(p, "udp", always=True) for p in range(18000, 18020))  # FreePBX's RTP range

PUBLISHED_PORTS: dict[str, tuple[HostPort, ...]] = {
    "freeipa": _ports(HostPort(389)),  # only when FreeIPA runs here (identity.mode 'container')
    "keycloak": _ports(HostPort(8080, always=True)),
    "postgresql": _ports(HostPort(5432, always=True)),
    "mariadb": _ports(HostPort(3306, always=True)),
    "redis": _ports(HostPort(6379)),
    "elasticsearch": _ports(HostPort(9200)),
    "nextcloud": _ports(HostPort(80)),
    "mattermost": _ports(HostPort(8065, always=True)),
    "jitsi": _ports(HostPort(10000, "udp", role="jvb", always=True), HostPort(8280, role="web")),
    "iredmail": _ports(*(HostPort(p, always=True) for p in (25, 587, 465, 143, 993)), HostPort(8081)),
    "zammad": _ports(HostPort(8088, role="nginx")),
    "freepbx": _ports(HostPort(5060, "udp", always=True), HostPort(5060, always=True), *_RTP, HostPort(80)),
    "suitecrm": _ports(HostPort(8080)),
    "odoo": _ports(HostPort(8069)),
    "openkm": _ports(HostPort(8380)),
    "taiga": _ports(HostPort(8000, role="back", claim_only=True), HostPort(8110, role="front")),
    "snipeit": _ports(HostPort(8120)),
    "glpi": _ports(HostPort(8130)),
    "traefik": _ports(HostPort(80, always=True), HostPort(443, always=True)),
    "zabbix": _ports(HostPort(8090, role="web", always=True), HostPort(10051, role="server"),
                     HostPort(10050, role="agent")),
    "graylog": _ports(
        HostPort(9000, always=True), HostPort(12201, always=True), HostPort(1514, always=True),
        HostPort(12201, "udp", always=True), HostPort(1514, "udp", always=True),
        HostPort(27017, role="mongodb", claim_only=True), HostPort(9200, role="opensearch", claim_only=True),
    ),
}
