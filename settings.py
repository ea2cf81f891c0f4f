"""Typed stack configuration, validated before any resource is declared.

Every key lives in the `itstack:` namespace of Pulumi.<stack>.yaml and is declared with a
type and description in Pulumi.yaml. `load_settings` turns the raw values into a `Settings`
object or raises `ConfigError`, which lists every problem of the run, one line each, naming the
key, the value given and what is allowed. Nothing is half-created because of a typo:
__main__.py calls this first.

Raw values are checked by hand, not by pydantic: its coercions (true taken as 1, "2" as 2) and
its wording ("Input should be a valid dictionary…") are not what a user should meet. The
pydantic models are the typed result, built from values already checked.
"""
from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping, NamedTuple, Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from components.catalog import ITSTACK_ADDRESSES, ITSTACK_HOSTS, PUBLISHED_PORTS, SERVICE_NAMES, SERVICES
from integrations.catalogue import CATALOGUE as INTEGRATION_CATALOGUE
from integrations.catalogue import KINDS as INTEGRATION_KINDS

NAMESPACE = "itstack"

# Known top-level keys; anything else in the itstack namespace is a typo.
KNOWN_KEYS = (
    "domain",
    "hosts",
    "placement",
    "services",
    "images",
    "sizes",
    "tls",
    "identity",
    "protectData",
    "requireImageDigests",
    "integrations",
    "directoryBindPassword",
)

HOST_FIELDS = ("name", "dockerHost", "address", "portOffset", "dockerApiVersion", "privilegedContainers")
TLS_FIELDS = ("mode", "acmeEmail", "acmeCaServer")
IDENTITY_FIELDS = ("mode", "url", "baseDn", "bindDn", "network", "realm")
# Fields that describe an external directory: meaningless (and silently unused) in container mode.
EXTERNAL_IDENTITY_FIELDS = ("url", "baseDn", "bindDn", "network")
SIZE_FIELDS = ("memoryMb", "cpus")

MAX_PORT_OFFSET = 50000
MIN_MEMORY_MB = 64
# Caps that catch a slip of the keyboard (an extra zero, MB for KB) before Docker or the kernel
# does: larger than any IT-Stack server, far below what would be a typo.
MAX_MEMORY_MB = 131072  # 128 GiB
MAX_CPUS = 64


class _Hidden:
    """Stands in for a secret value in messages."""

    def __repr__(self) -> str:
        return "<secret, not shown>"


SECRET_NOT_SHOWN = _Hidden()


class Problem(NamedTuple):
    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"config key '{NAMESPACE}:{self.key}': got {self.value!r}; allowed: {self.allowed}"


class ConfigError(ValueError):
    """Stack configuration values that are not allowed; the message is meant for a human.

    `problems` holds every problem found in one run; `key`, `value` and `allowed` are the first
    one's. The message has one line per problem."""

    def __init__(self, key: str | None = None, value: Any = None, allowed: str | None = None, *,
                 problems: Sequence[Problem] = ()):
        self.problems = list(problems) or [Problem(key, value, allowed)]
        self.key, self.value, self.allowed = self.problems[0]
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.problems]


class _Problems:
    """Collects problems so one run reports all of them."""

    def __init__(self):
        self.items: list[Problem] = []

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.items.append(Problem(key, value, allowed))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(problems=self.items)


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOST_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_API_VERSION_RE = re.compile(r"^1\.(4[1-9]|[5-9][0-9])$")
# repository[:tag][@sha256:<64 hex>]; the registry part may carry a port.
_IMAGE_RE = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_EMAIL_RE = re.compile(r"^[^@\s]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", re.I)
_DN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*=[^,=\s][^,=]*(,[A-Za-z][A-Za-z0-9-]*=[^,=\s][^,=]*)*$")
# Docker's own rule for network names.
_NETWORK_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
# The realm name is in every URL and entity id: keep it to what needs no escaping anywhere.
_REALM_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,34}[a-z0-9])?$")


def _is_int(value: Any) -> bool:
    # bool is an int in Python: `portOffset: true` must not mean 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _is_hostname(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return len(text) <= 253 and all(_DNS_LABEL_RE.match(label) for label in labels) \
        and not labels[-1].isdigit()


def _is_host(text: str) -> bool:
    """A DNS name or an IP literal."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return _is_hostname(text)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ImageRef(_Model):
    repository: str
    tag: str
    digest: str | None = None

    @property
    def ref(self) -> str:
        """The reference docker pulls: pinned by digest when one is known."""
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base

    @classmethod
    def parse(cls, key: str, text: Any) -> "ImageRef":
        if not isinstance(text, str):
            raise ConfigError(key, text, "a string 'repository:tag' or 'repository:tag@sha256:<64 hex>'")
        m = _IMAGE_RE.match(text)
        if not m:
            raise ConfigError(key, text, "an image reference 'repository:tag[@sha256:<64 hex>]' in lower case")
        if not m.group("tag"):
            raise ConfigError(key, text, "an image with an explicit tag, e.g. 'postgres:16.10' (no implicit latest)")
        if m.group("tag") == "latest":
            raise ConfigError(key, text, "a pinned tag; 'latest' moves under you")
        return cls(repository=m.group("repository"), tag=m.group("tag"), digest=m.group("digest"))


class Host(_Model):
    name: str
    docker_host: str = Field(alias="dockerHost")
    # Address that published ports bind to and that other hosts and the Pulumi engine use.
    address: str
    # Added to every published port, so a dev machine can keep 80/443/5432 for itself.
    port_offset: int = Field(default=0, alias="portOffset")
    # The Docker Engine API version the host's daemon speaks. Settings newer than it are left
    # out: Debian 12's docker.io (20.10) speaks 1.41 and refuses a health check start interval
    # (API 1.44, Docker 25+).
    docker_api_version: str = Field(default="1.41", alias="dockerApiVersion")
    # Whether the engine may run privileged containers with the host cgroup namespace (FreeIPA in
    # a container needs both; rootless and hardened engines refuse them).
    privileged_containers: bool = Field(default=True, alias="privilegedContainers")

    @property
    def api_version(self) -> tuple[int, int]:
        major, minor = self.docker_api_version.split(".")
        return int(major), int(minor)


class TlsSettings(_Model):
    mode: Literal["self-signed", "acme"] = "self-signed"
    acme_email: str | None = Field(default=None, alias="acmeEmail")
    acme_ca_server: str = Field(default="https://acme-v02.api.letsencrypt.org/directory", alias="acmeCaServer")


class IdentitySettings(_Model):
    # "container": FreeIPA runs as a privileged container on the identity host.
    # "external": an existing FreeIPA (or FreeIPA-shaped directory) reached by URL.
    mode: Literal["container", "external"] = "container"
    url: str | None = None
    base_dn: str | None = Field(default=None, alias="baseDn")
    bind_dn: str | None = Field(default=None, alias="bindDn")
    # Docker network the external directory is reachable on, joined by Keycloak (optional).
    network: str | None = None
    realm: str = "it-stack"


class Size(_Model):
    memory_mb: int = Field(alias="memoryMb")
    cpus: float


@dataclass(frozen=True)
class PlannedPort:
    """A port a service will claim on a host's address (after the host's portOffset)."""

    service: str
    role: str
    host: str
    address: str
    port: int
    protocol: str
    # Claimed by the component but bound by no container (see catalog.HostPort.claim_only).
    claim_only: bool = False

    @property
    def owner(self) -> str:
        return f"{self.service}/{self.role}"


def planned_ports(hosts: Sequence[Host], placement: Mapping[str, str], services: Sequence[str],
                  identity_mode: str) -> list[PlannedPort]:
    """Every host port the program will claim, from the catalogue's published-port table."""
    by_name = {h.name: h for h in hosts}
    multi_host = len(hosts) > 1
    out = []
    for svc in services:
        if svc == "freeipa" and identity_mode != "container":
            continue  # an external directory: nothing of FreeIPA runs here
        host = by_name[placement[svc]]
        for hp in PUBLISHED_PORTS.get(svc, ()):
            if hp.always or multi_host:
                out.append(PlannedPort(svc, hp.role, host.name, host.address, hp.port + host.port_offset,
                                       hp.protocol, hp.claim_only))
    return out


class Settings(_Model):
    stack: str
    domain: str
    hosts: tuple[Host, ...]
    placement: dict[str, str]
    services: tuple[str, ...]
    images: dict[str, dict[str, ImageRef]]
    sizes: dict[str, Size]
    tls: TlsSettings
    identity: IdentitySettings
    protect_data: bool
    require_image_digests: bool
    # itstack:integrations: per-kind switches and per-id overrides (integrations/catalogue.py).
    integration_kinds: dict[str, bool] = {}
    integration_ids: dict[str, bool] = {}
    directory_bind_password: Any = None  # a pulumi secret Output in external mode

    @property
    def multi_host(self) -> bool:
        return len(self.hosts) > 1

    def enabled(self, service: str) -> bool:
        return service in self.services

    def host_of(self, service: str) -> Host:
        name = self.placement[service]
        return next(h for h in self.hosts if h.name == name)

    def image(self, service: str, role: str = "main") -> ImageRef:
        return self.images[service][role]

    def url(self, service: str) -> str:
        return f"https://{SERVICES[service].subdomain}.{self.domain}"

    @property
    def base_dn(self) -> str:
        """LDAP base DN: given for an external directory, else derived from the domain."""
        if self.identity.mode == "external" and self.identity.base_dn:
            return self.identity.base_dn
        return ",".join(f"dc={part}" for part in self.domain.split("."))

    def published_ports(self) -> list[PlannedPort]:
        return planned_ports(self.hosts, self.placement, self.services, self.identity.mode)


def _default_hosts(stack: str) -> list[dict]:
    if stack == "prod":
        return [
            {"name": h, "dockerHost": f"ssh://deploy@{h}", "address": ITSTACK_ADDRESSES[h]} for h in ITSTACK_HOSTS
        ]
    return [{"name": "local", "dockerHost": "unix:///var/run/docker.sock", "address": "127.0.0.1"}]


# --- hosts ------------------------------------------------------------------------------------
_DOCKER_HOST_ALLOWED = "a Docker endpoint unix:///path/to/docker.sock, ssh://[user@]host[:port] or tcp://host:port"


def _docker_endpoint(p: _Problems, key: str, text: Any) -> tuple | None:
    """Checks a dockerHost URL; returns what identifies the engine (for duplicate checks)."""
    def bad(reason: str, shown: Any = text) -> None:
        p.add(key, shown, f"{_DOCKER_HOST_ALLOWED} ({reason})")

    if not isinstance(text, str):
        return bad("a string")
    if re.search(r"\s", text):
        return bad("no spaces")
    u = urlsplit(text)
    if u.scheme not in ("unix", "ssh", "tcp"):
        return bad("scheme unix, ssh or tcp")
    if u.password is not None:
        # Never echo it: the value carries a password.
        return bad("no password in the URL: use an ssh key or TLS certificates", SECRET_NOT_SHOWN)
    if u.query or u.fragment:
        return bad("no query or fragment")
    if u.scheme == "unix":
        if u.netloc or not u.path.startswith("/") or u.path.endswith("/"):
            return bad("a socket path after unix:// with three slashes")
        return ("unix", u.path)
    try:
        port = u.port
    except ValueError:
        return bad("a port from 1 to 65535")
    if not u.hostname or not _is_host(u.hostname):
        return bad("a host name or IP address after the scheme")
    if port is not None and not 1 <= port <= 65535:
        return bad("a port from 1 to 65535")
    if u.path not in ("", "/"):
        return bad("no path after the host")
    if u.scheme == "tcp" and port is None:
        return bad("tcp:// needs the engine's port, 2376 with TLS")
    return (u.scheme, u.hostname.lower().rstrip("."), port)


def _address(p: _Problems, key: str, text: Any) -> bool:
    allowed = ("the host's IPv4 address, such as 10.0.50.12: published ports bind to it (Docker binds to "
               "an IP, not a name) and other hosts and the Pulumi engine connect to it")
    if not isinstance(text, str):
        p.add(key, text, allowed)
        return False
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        p.add(key, text, allowed)
        return False
    if ip.version != 4:
        # Consumers are given host:port strings and URLs, which an IPv6 literal would break.
        p.add(key, text, allowed + "; IPv6 is not supported yet")
        return False
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.ip_address("255.255.255.255"):
        p.add(key, text, allowed + "; not 0.0.0.0, a broadcast or a multicast address")
        return False
    return True


def _check_host(p: _Problems, i: int, h: Any) -> Host | None:
    key = f"hosts[{i}]"
    if not isinstance(h, Mapping):
        p.add(key, h, f"a mapping with the host fields {', '.join(HOST_FIELDS)}")
        return None
    start = len(p.items)
    for f in h:
        if f not in HOST_FIELDS:
            p.add(f"{key}.{f}", h[f], f"one of the host fields: {', '.join(HOST_FIELDS)}")
    for f in ("name", "dockerHost", "address"):
        if f not in h:
            p.add(f"{key}.{f}", None, "a value: every host needs name, dockerHost and address")
    if "name" in h and not (isinstance(h["name"], str) and _HOST_NAME_RE.match(h["name"])):
        p.add(f"{key}.name", h["name"], "a short host name: lower-case letters, digits and hyphens")
    if "dockerHost" in h:
        _docker_endpoint(p, f"{key}.dockerHost", h["dockerHost"])
    if "address" in h:
        _address(p, f"{key}.address", h["address"])
    offset = h.get("portOffset", 0)
    if not _is_int(offset) or not 0 <= offset <= MAX_PORT_OFFSET:
        p.add(f"{key}.portOffset", offset,
              f"a whole number from 0 to {MAX_PORT_OFFSET}, added to every published port (true/false is not a number)")
    version = h.get("dockerApiVersion", "1.41")
    if isinstance(version, float):
        # YAML reads 1.50 as the number 1.5: a version must be quoted.
        p.add(f"{key}.dockerApiVersion", version, "a quoted string such as '1.44': YAML reads an unquoted 1.50 as 1.5")
    elif not (isinstance(version, str) and _API_VERSION_RE.match(version)):
        p.add(f"{key}.dockerApiVersion", version,
              "a Docker Engine API version from '1.41' (Docker 20.10, Debian 12) up, such as '1.44'")
    privileged = h.get("privilegedContainers", True)
    if not isinstance(privileged, bool):
        p.add(f"{key}.privilegedContainers", privileged, "true or false")
    if len(p.items) > start:
        return None
    return Host.model_validate(dict(h))


def _check_hosts(p: _Problems, stack: str, raw: Mapping) -> list[Host] | None:
    hosts_raw = raw.get("hosts", _default_hosts(stack))
    if not isinstance(hosts_raw, list) or not hosts_raw:
        p.add("hosts", hosts_raw, f"a list of at least one host, each a mapping with {', '.join(HOST_FIELDS)}")
        return None
    start = len(p.items)
    checked = [_check_host(p, i, h) for i, h in enumerate(hosts_raw)]
    hosts = [h for h in checked if h is not None]
    seen_names: dict[str, int] = {}
    seen_engines: dict[tuple, int] = {}
    for i, h in enumerate(checked):
        if h is None:
            continue
        if h.name in seen_names:
            p.add(f"hosts[{i}].name", h.name, f"a name not used by another host (hosts[{seen_names[h.name]}] has it)")
        seen_names.setdefault(h.name, i)
        engine = _docker_endpoint(_Problems(), "", h.docker_host)
        if engine in seen_engines:
            # Each host gets its own networks with the stack's names: on one engine they collide.
            j = seen_engines[engine]
            p.add(f"hosts[{i}].dockerHost", h.docker_host,
                  f"a Docker engine no other host uses: hosts[{j}] ({checked[j].name}) already deploys to it")
        seen_engines.setdefault(engine, i)
    loopback = [i for i, h in enumerate(checked) if h and ipaddress.ip_address(h.address).is_loopback]
    if len(hosts) > 1 and loopback and len(loopback) < len(hosts):
        for i in loopback:
            p.add(f"hosts[{i}].address", checked[i].address,
                  "an address the other hosts can reach: a loopback address is each machine's own")
    return hosts if len(p.items) == start else None


# --- services, placement ----------------------------------------------------------------------
def _check_services(p: _Problems, raw: Mapping) -> list[str] | None:
    services_raw = raw.get("services", list(SERVICE_NAMES))
    if not isinstance(services_raw, list) or not services_raw:
        p.add("services", services_raw, f"a list of at least one service name: {', '.join(SERVICE_NAMES)}")
        return None
    start = len(p.items)
    names = []
    for s in services_raw:
        if not isinstance(s, str):
            p.add("services", s, f"service names as strings, one of {', '.join(SERVICE_NAMES)}")
        elif s not in SERVICES:
            p.add("services", s, f"one of {', '.join(SERVICE_NAMES)}")
        else:
            names.append(s)
    dupes = sorted({s for s in names if names.count(s) > 1})
    if dupes:
        p.add("services", services_raw, f"each service at most once ({', '.join(dupes)} repeated)")
    for s in SERVICE_NAMES:
        if s in names:
            for dep in SERVICES[s].requires:
                if dep not in names:
                    p.add("services", services_raw, f"'{s}' requires '{dep}': enable '{dep}' too, or disable '{s}'")
    if len(p.items) > start:
        return None
    # Keep catalogue order so outputs and resources are listed the same way every run.
    return [s for s in SERVICE_NAMES if s in names]


def _for_service(p: _Problems, key: str, svc: Any, value: Any, services: list[str] | None,
                 identity_mode: str | None, what: str) -> bool:
    """A per-service entry (placement, images, sizes) names a service that this stack runs."""
    if svc not in SERVICES:
        p.add(key, value, f"{what} for a known service: {', '.join(SERVICE_NAMES)}")
        return False
    if services is not None and svc not in services:
        p.add(key, value, f"{what} only for an enabled service: '{svc}' is not in itstack:services, "
                          f"so this would be ignored; remove it or enable '{svc}'")
        return False
    if svc == "freeipa" and identity_mode == "external":
        p.add(key, value, f"no {what} for FreeIPA when identity.mode is 'external': no FreeIPA container runs, "
                          "so this would be ignored")
        return False
    return True


def _check_placement(p: _Problems, raw: Mapping, hosts: list[Host] | None, services: list[str] | None,
                     identity_mode: str | None) -> dict[str, str] | None:
    placement_raw = raw.get("placement", {})
    if not isinstance(placement_raw, Mapping):
        p.add("placement", placement_raw, "a mapping of service name to host name")
        return None
    start = len(p.items)
    host_names = [h.name for h in hosts] if hosts is not None else None
    for svc, host in placement_raw.items():
        key = f"placement.{svc}"
        if not _for_service(p, key, svc, host, services, identity_mode, "placement"):
            continue
        if host_names is not None and host not in host_names:
            p.add(key, host, f"a host listed in itstack:hosts: {', '.join(host_names)}")
    if hosts is None or services is None or len(p.items) > start:
        return None
    placement: dict[str, str] = {}
    for svc in services:
        if svc in placement_raw:
            placement[svc] = placement_raw[svc]
        elif len(hosts) == 1:
            placement[svc] = hosts[0].name
        else:
            default = SERVICES[svc].default_host
            if svc == "freeipa" and identity_mode == "external" and default not in host_names:
                placement[svc] = hosts[0].name  # nothing of FreeIPA runs here: any host will do
                continue
            if default not in host_names:
                p.add(f"placement.{svc}", None,
                      f"a host for '{svc}': its default host '{default}' is not in itstack:hosts "
                      f"({', '.join(host_names)}); add it or set itstack:placement.{svc}")
            placement[svc] = default
    return placement if len(p.items) == start else None


# --- images, sizes ----------------------------------------------------------------------------
def _check_images(p: _Problems, raw: Mapping, services: list[str] | None, identity_mode: str | None,
                  require_digests: bool) -> dict[str, dict[str, ImageRef]]:
    images_raw = raw.get("images", {})
    if not isinstance(images_raw, Mapping):
        p.add("images", images_raw, "a mapping of service name to an image, or to {role: image}")
        return {}
    overrides: dict[str, dict] = {}
    for svc, override in images_raw.items():
        if not _for_service(p, f"images.{svc}", svc, override, services, identity_mode, "images"):
            continue
        roles = SERVICES[svc].images
        if isinstance(override, str):
            if len(roles) != 1:
                p.add(f"images.{svc}", override, f"a mapping of role to image; roles: {', '.join(roles)}")
                continue
            override = {"main": override}
        if not isinstance(override, Mapping):
            p.add(f"images.{svc}", override, "an image 'repository:tag[@sha256:…]' or a mapping of role to image")
            continue
        for role in override:
            if role not in roles:
                p.add(f"images.{svc}.{role}", override[role], f"a role of {svc}: {', '.join(roles)}")
        overrides[svc] = override
    images: dict[str, dict[str, ImageRef]] = {}
    for svc in services or ():
        images[svc] = {}
        override = overrides.get(svc, {})
        for role, default in SERVICES[svc].images.items():
            key = f"images.{svc}" + ("" if role == "main" else f".{role}")
            try:
                ref = ImageRef.parse(key, override.get(role, default))
            except ConfigError as e:
                p.items.extend(e.problems)
                continue
            if require_digests and not ref.digest:
                p.add(key, ref.ref, "an image pinned by digest ('repository:tag@sha256:…'), "
                                    "because itstack:requireImageDigests is true")
            images[svc][role] = ref
    return images


def _check_sizes(p: _Problems, raw: Mapping, services: list[str] | None,
                 identity_mode: str | None) -> dict[str, Size]:
    sizes_raw = raw.get("sizes", {})
    if not isinstance(sizes_raw, Mapping):
        p.add("sizes", sizes_raw, "a mapping of service name to {memoryMb, cpus}")
        return {}
    given: dict[str, Mapping] = {}
    for svc, entry in sizes_raw.items():
        key = f"sizes.{svc}"
        if not _for_service(p, key, svc, entry, services, identity_mode, "sizes"):
            continue
        if not isinstance(entry, Mapping):
            p.add(key, entry, "a mapping {memoryMb, cpus}")
            continue
        for f in entry:
            if f not in SIZE_FIELDS:
                p.add(f"{key}.{f}", entry[f], f"one of {', '.join(SIZE_FIELDS)}")
        given[svc] = entry
    sizes: dict[str, Size] = {}
    for svc in services or ():
        d = SERVICES[svc].size
        entry = given.get(svc, {})
        mem, cpus = entry.get("memoryMb", d.memory_mb), entry.get("cpus", d.cpus)
        ok = True
        if not _is_int(mem) or not MIN_MEMORY_MB <= mem <= MAX_MEMORY_MB:
            p.add(f"sizes.{svc}.memoryMb", mem,
                  f"a whole number of MiB from {MIN_MEMORY_MB} to {MAX_MEMORY_MB} ({MAX_MEMORY_MB // 1024} GiB)")
            ok = False
        if not _is_number(cpus) or not 0 < cpus <= MAX_CPUS:
            p.add(f"sizes.{svc}.cpus", cpus, f"a number of CPUs greater than 0 and at most {MAX_CPUS}, such as 1.5")
            ok = False
        if ok:
            sizes[svc] = Size(memory_mb=mem, cpus=float(cpus))
    return sizes


# --- tls, identity ----------------------------------------------------------------------------
def _unknown_fields(p: _Problems, key: str, value: Mapping, fields: Sequence[str]) -> None:
    for f in value:
        if f not in fields:
            p.add(f"{key}.{f}", value[f], f"one of {', '.join(fields)}")


def _check_tls(p: _Problems, stack: str, raw: Mapping) -> TlsSettings | None:
    tls_raw = raw.get("tls", {"mode": "acme"} if stack == "prod" else {})
    if not isinstance(tls_raw, Mapping):
        p.add("tls", tls_raw, "a mapping {mode: self-signed | acme, acmeEmail, acmeCaServer}")
        return None
    start = len(p.items)
    _unknown_fields(p, "tls", tls_raw, TLS_FIELDS)
    mode = tls_raw.get("mode", "self-signed")
    if mode not in ("self-signed", "acme"):
        p.add("tls.mode", mode, "'self-signed' or 'acme'")
    elif mode == "acme":
        email = tls_raw.get("acmeEmail")
        if not (isinstance(email, str) and _EMAIL_RE.match(email)):
            p.add("tls.acmeEmail", email, "an e-mail address for the ACME account when tls.mode is 'acme'")
        server = tls_raw.get("acmeCaServer", TlsSettings.model_fields["acme_ca_server"].default)
        u = urlsplit(server) if isinstance(server, str) and not re.search(r"\s", server) else None
        if u is None or u.scheme != "https" or not u.hostname or not _is_host(u.hostname):
            p.add("tls.acmeCaServer", server,
                  "the https:// URL of an ACME directory, such as https://acme-v02.api.letsencrypt.org/directory")
    else:
        for f in ("acmeEmail", "acmeCaServer"):
            if f in tls_raw:
                p.add(f"tls.{f}", tls_raw[f], "only when tls.mode is 'acme' (with 'self-signed' it would be ignored)")
    if len(p.items) > start:
        return None
    return TlsSettings.model_validate(dict(tls_raw))


def _check_identity(p: _Problems, raw: Mapping, secrets: Mapping) -> IdentitySettings | None:
    ident = raw.get("identity", {})
    if not isinstance(ident, Mapping):
        p.add("identity", ident, f"a mapping with {', '.join(IDENTITY_FIELDS)}")
        return None
    start = len(p.items)
    _unknown_fields(p, "identity", ident, IDENTITY_FIELDS)
    mode = ident.get("mode", "container")
    realm = ident.get("realm", "it-stack")
    if not (isinstance(realm, str) and _REALM_RE.match(realm)) or realm == "master":
        p.add("identity.realm", realm, "a realm name of 1-36 lower-case letters, digits and hyphens, not "
                                       "'master' (Keycloak's own administration realm)")
    bind_password = secrets.get("directoryBindPassword")
    if mode not in ("container", "external"):
        p.add("identity.mode", mode, "'container' (FreeIPA runs here) or 'external' (an existing directory)")
    elif mode == "container":
        for f in EXTERNAL_IDENTITY_FIELDS:
            if f in ident:
                p.add(f"identity.{f}", ident[f], "only when identity.mode is 'external'; with 'container' "
                                                  "FreeIPA runs here and this would be ignored")
        if bind_password is not None:
            p.add("directoryBindPassword", SECRET_NOT_SHOWN,
                  "no value unless identity.mode is 'external' (it would be ignored)")
    else:
        url = ident.get("url")
        if not url:
            p.add("identity.url", url, "a value when identity.mode is 'external'")
        else:
            u = urlsplit(url) if isinstance(url, str) and not re.search(r"\s", url) else None
            try:
                port_ok = u is not None and (u.port is None or 1 <= u.port <= 65535)
            except ValueError:
                port_ok = False
            if u is not None and u.password is not None:
                p.add("identity.url", SECRET_NOT_SHOWN, "an LDAP URL without a password in it (the bind "
                                                        "password goes in itstack:directoryBindPassword)")
            elif not (u and u.scheme in ("ldap", "ldaps") and u.hostname and _is_host(u.hostname) and port_ok
                      and u.path in ("", "/") and not u.query):
                p.add("identity.url", url, "an LDAP URL ldap://host[:port] or ldaps://host[:port]")
        for f in ("baseDn", "bindDn"):
            dn = ident.get(f)
            if not dn:
                p.add(f"identity.{f}", dn, "a value when identity.mode is 'external'")
            elif not (isinstance(dn, str) and _DN_RE.match(dn)):
                p.add(f"identity.{f}", dn, "an LDAP DN such as 'dc=example,dc=com' (attribute=value, comma separated)")
        network = ident.get("network")
        if network is not None and not (isinstance(network, str) and _NETWORK_RE.match(network)):
            p.add("identity.network", network,
                  "a Docker network name: letters, digits, '_', '.', '-', starting with a letter or digit")
        if bind_password is None:
            p.add("directoryBindPassword", None,
                  "a secret set with `pulumi config set --secret itstack:directoryBindPassword …` "
                  "when identity.mode is 'external'")
    if len(p.items) > start:
        return None
    return IdentitySettings.model_validate(dict(ident))


# --- integrations, switches -------------------------------------------------------------------
def _known_ids(kind: str | None = None) -> str:
    ids = sorted(i for i, e in INTEGRATION_CATALOGUE.items() if kind is None or e.kind == kind)
    return ", ".join(ids)


def _check_integrations(p: _Problems, raw: Mapping) -> tuple[dict[str, bool], dict[str, bool]]:
    """{kinds: {<kind>: bool}, disabled: [ids], enabled: [ids]}: AgencyStack's per-kind switches and
    per-id overrides (an id's own switch wins). Returns (kinds, ids)."""
    shape = "a mapping {kinds: {<kind>: true|false}, disabled: [ids], enabled: [ids]}"
    integ = raw.get("integrations", {})
    if not isinstance(integ, Mapping):
        p.add("integrations", integ, shape)
        return {}, {}
    for k in integ:
        if k not in ("kinds", "disabled", "enabled"):
            p.add(f"integrations.{k}", integ[k], shape)
    kinds: dict[str, bool] = {}
    raw_kinds = integ.get("kinds", {})
    if not isinstance(raw_kinds, Mapping):
        p.add("integrations.kinds", raw_kinds, "a mapping of integration kind to true or false")
        raw_kinds = {}
    for kind, on in raw_kinds.items():
        if kind not in INTEGRATION_KINDS:
            p.add(f"integrations.kinds.{kind}", on, f"an integration kind: {', '.join(INTEGRATION_KINDS)}")
        elif not isinstance(on, bool):
            p.add(f"integrations.kinds.{kind}", on, "true or false")
        else:
            if not on:
                for e in INTEGRATION_CATALOGUE.values():
                    if e.kind == kind and not e.switchable:
                        p.add(f"integrations.kinds.{kind}", on,
                              f"true: {e.id} cannot be switched off ({e.note}); switch its service off instead")
                        break
            kinds[kind] = on
    ids: dict[str, bool] = {}
    for key, on in (("disabled", False), ("enabled", True)):
        listed = integ.get(key, [])
        if not isinstance(listed, list):
            p.add(f"integrations.{key}", listed, "a list of integration ids such as 'sso:keycloak->nextcloud'")
            continue
        for d in listed:
            entry = INTEGRATION_CATALOGUE.get(d) if isinstance(d, str) else None
            if entry is None:
                kind = d.split(":", 1)[0] if isinstance(d, str) else None
                known = _known_ids(kind) if kind in INTEGRATION_KINDS else f"ids such as {_known_ids('sso')}"
                p.add(f"integrations.{key}", d, f"a known integration id: {known} (integrations/catalogue.py)")
            elif d in ids and ids[d] != on:
                p.add(f"integrations.{key}", d, "an id in only one of 'enabled' and 'disabled'")
            elif not on and not entry.switchable:
                p.add(f"integrations.{key}", d,
                      f"an integration that may be switched off; {d} may not ({entry.note}): switch its service off")
            else:
                ids[d] = on
    return kinds, ids


def _check_bool(p: _Problems, raw: Mapping, key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        p.add(key, value, "true or false")
        return default
    return value


# --- cross-field: host ports ------------------------------------------------------------------
def _check_ports(p: _Problems, hosts: list[Host], placement: dict[str, str], services: list[str],
                 identity_mode: str) -> None:
    index = {h.name: i for i, h in enumerate(hosts)}
    planned = planned_ports(hosts, placement, services, identity_mode)
    # Beyond 65535 after the offset: one problem per host, naming the largest.
    for h in hosts:
        over = [pp for pp in planned if pp.host == h.name and pp.port > 65535]
        if over:
            worst = max(over, key=lambda pp: pp.port)
            base = worst.port - h.port_offset
            p.add(f"hosts[{index[h.name]}].portOffset", h.port_offset,
                  f"an offset that keeps every published port at most 65535: {worst.owner} publishes "
                  f"{worst.protocol} {base}, which becomes {worst.port}; at most {65535 - base} on this host")
    # Two claims of one (address, port, protocol): the first in catalogue order keeps it.
    first: dict[tuple[str, int, str], PlannedPort] = {}
    clashes: dict[tuple[str, str, str, str], list[str]] = {}  # (service, host) twice -> ports
    for pp in planned:
        k = (pp.address, pp.port, pp.protocol)
        if k not in first:
            first[k] = pp
        elif first[k].service != pp.service:
            pair = (first[k].service, first[k].host, pp.service, pp.host)
            clashes.setdefault(pair, []).append(f"{pp.protocol} {pp.port}")
    for (a_svc, a_host, b_svc, b_host), ports in clashes.items():
        shown = ", ".join(ports[:4]) + (f" and {len(ports) - 4} more" if len(ports) > 4 else "")
        address = hosts[index[b_host]].address
        if a_host == b_host:
            p.add(f"placement.{b_svc}", b_host,
                  f"a host where {b_svc}'s ports are free: {a_svc} already publishes {shown} on "
                  f"{a_host} ({address}); place one of them on another host")
        else:
            p.add(f"hosts[{index[b_host]}].address", address,
                  f"an address no other host publishes the same ports on: {a_svc} on {a_host} and "
                  f"{b_svc} on {b_host} both publish {shown} on {address}; give the hosts their own "
                  f"addresses or different portOffsets, or place one service elsewhere")


# --- the whole configuration ------------------------------------------------------------------
def load_settings(stack: str, raw: Mapping[str, Any], secrets: Mapping[str, Any] | None = None) -> Settings:
    """Validate the raw `itstack:` config of a stack. `raw` maps key -> decoded value.

    Raises ConfigError listing every problem found. Checks that need other values (placement
    needs hosts, ports need placement) run once those values are valid, so one fix never
    uncovers an error that was there all along in the same key."""
    secrets = secrets or {}
    p = _Problems()
    for key in raw:
        if key not in KNOWN_KEYS:
            p.add(key, raw[key], f"a known key: {', '.join(KNOWN_KEYS)}")

    domain = raw.get("domain")
    if not isinstance(domain, str) or not _DOMAIN_RE.match(domain):
        p.add("domain", domain, "a lower-case DNS domain such as 'it-stack.lab' (letters, digits, hyphens, dots)")

    hosts = _check_hosts(p, stack, raw)
    services = _check_services(p, raw)
    identity = _check_identity(p, raw, secrets)
    # The mode decides which per-service entries count, even when another identity field is wrong.
    ident_raw = raw.get("identity", {})
    identity_mode = identity.mode if identity else ident_raw.get("mode") if isinstance(ident_raw, Mapping) else None
    placement = _check_placement(p, raw, hosts, services, identity_mode)
    require_digests = _check_bool(p, raw, "requireImageDigests", True)
    images = _check_images(p, raw, services, identity_mode, require_digests)
    sizes = _check_sizes(p, raw, services, identity_mode)
    tls = _check_tls(p, stack, raw)
    integration_kinds, integration_ids = _check_integrations(p, raw)
    protect = _check_bool(p, raw, "protectData", True)

    if hosts is not None and placement is not None and services is not None and identity is not None:
        _check_ports(p, hosts, placement, services, identity.mode)
        if identity.mode == "container" and "freeipa" in services:
            i, ipa_host = next((i, h) for i, h in enumerate(hosts) if h.name == placement["freeipa"])
            if not ipa_host.privileged_containers:
                p.add(f"hosts[{i}].privilegedContainers", False,
                      "true on the host of FreeIPA when identity.mode is 'container' (it needs a privileged "
                      "container with the host cgroup namespace); or set identity.mode 'external'")

    p.raise_if_any()
    return Settings(
        stack=stack,
        domain=domain,
        hosts=tuple(hosts),
        placement=placement,
        services=tuple(services),
        images=images,
        sizes=sizes,
        tls=tls,
        identity=identity,
        protect_data=protect,
        require_image_digests=require_digests,
        directory_bind_password=secrets.get("directoryBindPassword") if identity.mode == "external" else None,
        integration_kinds=integration_kinds,
        integration_ids=integration_ids,
    )


def read_pulumi_config() -> Settings:
    """Read the stack's config through the Pulumi SDK and validate it."""
    import json

    import pulumi

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in KNOWN_KEYS:
        if key == "directoryBindPassword":
            continue
        text = cfg.get(key)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        # Pulumi.yaml declares an empty list/map as the default of optional structured keys:
        # empty means "not set", so stack-dependent defaults (hosts, TLS mode...) still apply.
        if value in ([], {}):
            continue
        raw[key] = value
    secrets = {}
    early: list[Problem] = []
    bind = cfg.get_secret("directoryBindPassword") if cfg.get("directoryBindPassword") else None
    if bind is not None:
        from pulumi.runtime.config import is_config_secret

        if not is_config_secret(f"{NAMESPACE}:directoryBindPassword"):
            early.append(Problem("directoryBindPassword", SECRET_NOT_SHOWN,
                                 "a secret: `pulumi config set --secret itstack:directoryBindPassword …`"))
        secrets["directoryBindPassword"] = bind
    # Unknown keys in our namespace are typos: find them in the whole stack config.
    from pulumi.runtime.config import CONFIG, get_config_env, is_config_secret

    for full_key in {**get_config_env(), **CONFIG.get()}:
        ns, _, key = full_key.partition(":")
        if ns == NAMESPACE and key not in KNOWN_KEYS:
            # A mistyped secret key (…BindPasword) must not have its value printed back.
            raw[key] = SECRET_NOT_SHOWN if is_config_secret(full_key) else cfg.get(key)
    try:
        settings = load_settings(pulumi.get_stack(), raw, secrets)
    except ConfigError as e:
        raise ConfigError(problems=early + e.problems) from None
    if early:
        raise ConfigError(problems=early)
    return settings
