"""Typed stack configuration, validated before any resource is declared.

Every key lives in the `itstack:` namespace of Pulumi.<stack>.yaml and is declared with a
type and description in Pulumi.yaml. `load_settings` turns the raw values into a `Settings`
object or raises `ConfigError`, whose message names the key, the value given and what is
allowed. Nothing is half-created because of a typo: __main__.py calls this first.
"""
from __future__ import annotations

import re
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.catalog import ITSTACK_ADDRESSES, ITSTACK_HOSTS, SERVICE_NAMES, SERVICES

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


class ConfigError(ValueError):
    """A stack configuration value is not allowed. The message is meant for a human."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config key '{NAMESPACE}:{key}': got {value!r}; allowed: {allowed}")


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOST_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# repository[:tag][@sha256:<64 hex>]; the registry part may carry a port.
_IMAGE_RE = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


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
    disabled_integrations: frozenset[str] = frozenset()
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


def _fail(key: str, value: Any, allowed: str):
    raise ConfigError(key, value, allowed)


def _as_list(key: str, value: Any) -> list:
    if not isinstance(value, list):
        _fail(key, value, "a list")
    return value


def _as_mapping(key: str, value: Any) -> Mapping:
    if not isinstance(value, Mapping):
        _fail(key, value, "a mapping")
    return value


def _model(key: str, cls, value: Any):
    """Build a pydantic model, turning its first error into a ConfigError naming the key."""
    try:
        return cls.model_validate(value)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        sub = f"{key}.{where}" if where else key
        given = err.get("input", value)
        allowed = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = f"one of {sorted(f.alias or n for n, f in cls.model_fields.items())}"
        elif err["type"] == "literal_error":
            allowed = err["msg"].replace("Input should be ", "one of ")
        raise ConfigError(sub, given, allowed) from None


def _default_hosts(stack: str) -> list[dict]:
    if stack == "prod":
        return [
            {"name": h, "dockerHost": f"ssh://deploy@{h}", "address": ITSTACK_ADDRESSES[h]} for h in ITSTACK_HOSTS
        ]
    return [{"name": "local", "dockerHost": "unix:///var/run/docker.sock", "address": "127.0.0.1"}]


def load_settings(stack: str, raw: Mapping[str, Any], secrets: Mapping[str, Any] | None = None) -> Settings:
    """Validate the raw `itstack:` config of a stack. `raw` maps key -> decoded value."""
    secrets = secrets or {}
    for key in raw:
        if key not in KNOWN_KEYS:
            _fail(key, raw[key], f"a known key: {', '.join(KNOWN_KEYS)}")

    domain = raw.get("domain")
    if not isinstance(domain, str) or not _DOMAIN_RE.match(domain):
        _fail("domain", domain, "a lower-case DNS domain such as 'it-stack.lab' (letters, digits, hyphens, dots)")

    # Hosts.
    hosts_raw = _as_list("hosts", raw.get("hosts", _default_hosts(stack)))
    if not hosts_raw:
        _fail("hosts", hosts_raw, "at least one host")
    hosts: list[Host] = []
    for i, h in enumerate(hosts_raw):
        host = _model(f"hosts[{i}]", Host, h)
        if not _HOST_NAME_RE.match(host.name):
            _fail(f"hosts[{i}].name", host.name, "a short host name: lower-case letters, digits and hyphens")
        if not re.match(r"^(unix|ssh|tcp)://", host.docker_host):
            _fail(f"hosts[{i}].dockerHost", host.docker_host, "a Docker endpoint unix://…, ssh://user@host or tcp://…")
        if not re.match(r"^1\.(4[1-9]|[5-9][0-9])$", host.docker_api_version):
            _fail(f"hosts[{i}].dockerApiVersion", host.docker_api_version,
                  "a Docker Engine API version from '1.41' (Docker 20.10, Debian 12) up, such as '1.44'")
        if host.port_offset < 0 or host.port_offset > 50000:
            _fail(f"hosts[{i}].portOffset", host.port_offset, "an integer from 0 to 50000")
        if any(o.name == host.name for o in hosts):
            _fail(f"hosts[{i}].name", host.name, "a name not used by another host")
        hosts.append(host)
    host_names = [h.name for h in hosts]

    # Services.
    services_raw = raw.get("services", list(SERVICE_NAMES))
    services = _as_list("services", services_raw)
    for s in services:
        if s not in SERVICES:
            _fail("services", s, f"one of {', '.join(SERVICE_NAMES)}")
    if len(set(services)) != len(services):
        _fail("services", services, "each service at most once")
    for s in services:
        for dep in SERVICES[s].requires:
            if dep not in services:
                _fail("services", services, f"'{s}' requires '{dep}': enable '{dep}' too, or disable '{s}'")
    # Keep catalogue order so outputs and resources are listed the same way every run.
    services = [s for s in SERVICE_NAMES if s in services]

    # Placement: one host -> everything there; several -> the 8-server layout unless told otherwise.
    placement_raw = dict(_as_mapping("placement", raw.get("placement", {})))
    for svc, host in placement_raw.items():
        if svc not in SERVICES:
            _fail(f"placement.{svc}", host, f"placement for a known service: {', '.join(SERVICE_NAMES)}")
        if host not in host_names:
            _fail(f"placement.{svc}", host, f"a host listed in itstack:hosts: {', '.join(host_names)}")
    placement: dict[str, str] = {}
    for svc in services:
        if svc in placement_raw:
            placement[svc] = placement_raw[svc]
        elif len(hosts) == 1:
            placement[svc] = hosts[0].name
        else:
            default = SERVICES[svc].default_host
            if default not in host_names:
                _fail(
                    f"placement.{svc}",
                    None,
                    f"a host for '{svc}': its default host '{default}' is not in itstack:hosts "
                    f"({', '.join(host_names)}); add it or set itstack:placement.{svc}",
                )
            placement[svc] = default

    # Images: catalogue defaults, overridden per service and role.
    images_raw = _as_mapping("images", raw.get("images", {}))
    require_digests = raw.get("requireImageDigests", True)
    if not isinstance(require_digests, bool):
        _fail("requireImageDigests", require_digests, "true or false")
    images: dict[str, dict[str, ImageRef]] = {}
    for svc, override in images_raw.items():
        if svc not in SERVICES:
            _fail(f"images.{svc}", override, f"images for a known service: {', '.join(SERVICE_NAMES)}")
        roles = SERVICES[svc].images
        if isinstance(override, str):
            if len(roles) != 1:
                _fail(f"images.{svc}", override, f"a mapping of role to image; roles: {', '.join(roles)}")
            override = {"main": override}
        for role in _as_mapping(f"images.{svc}", override):
            if role not in roles:
                _fail(f"images.{svc}.{role}", override[role], f"a role of {svc}: {', '.join(roles)}")
    for svc in services:
        images[svc] = {}
        override = images_raw.get(svc, {})
        if isinstance(override, str):
            override = {"main": override}
        for role, default in SERVICES[svc].images.items():
            key = f"images.{svc}" + ("" if role == "main" else f".{role}")
            ref = ImageRef.parse(key, override.get(role, default))
            if require_digests and not ref.digest:
                _fail(key, ref.ref, "an image pinned by digest ('repository:tag@sha256:…'), "
                                    "because itstack:requireImageDigests is true")
            images[svc][role] = ref

    # Sizes.
    sizes_raw = _as_mapping("sizes", raw.get("sizes", {}))
    sizes: dict[str, Size] = {}
    for svc in sizes_raw:
        if svc not in SERVICES:
            _fail(f"sizes.{svc}", sizes_raw[svc], f"sizes for a known service: {', '.join(SERVICE_NAMES)}")
    for svc in services:
        d = SERVICES[svc].size
        merged = {"memoryMb": d.memory_mb, "cpus": d.cpus, **_as_mapping(f"sizes.{svc}", sizes_raw.get(svc, {}))}
        size = _model(f"sizes.{svc}", Size, merged)
        if size.memory_mb < 64:
            _fail(f"sizes.{svc}.memoryMb", size.memory_mb, "an integer of at least 64 (MiB)")
        if size.cpus <= 0:
            _fail(f"sizes.{svc}.cpus", size.cpus, "a number greater than 0")
        sizes[svc] = size

    tls = _model("tls", TlsSettings, raw.get("tls", {"mode": "acme"} if stack == "prod" else {}))
    if tls.mode == "acme" and not (tls.acme_email and "@" in tls.acme_email):
        _fail("tls.acmeEmail", tls.acme_email, "an e-mail address for the ACME account when tls.mode is 'acme'")

    identity = _model("identity", IdentitySettings, raw.get("identity", {}))
    bind_password = None
    if identity.mode == "external":
        for field, value in (("url", identity.url), ("baseDn", identity.base_dn), ("bindDn", identity.bind_dn)):
            if not value:
                _fail(f"identity.{field}", value, "a value when identity.mode is 'external'")
        if not re.match(r"^ldaps?://[^/\s]+$", identity.url):
            _fail("identity.url", identity.url, "an LDAP URL ldap://host[:port] or ldaps://host[:port]")
        bind_password = secrets.get("directoryBindPassword")
        if bind_password is None:
            _fail("directoryBindPassword", None,
                  "a secret set with `pulumi config set --secret itstack:directoryBindPassword …` "
                  "when identity.mode is 'external'")
    if identity.mode == "container" and "freeipa" in services:
        ipa_host = next(h for h in hosts if h.name == placement["freeipa"])
        if not ipa_host.privileged_containers:
            _fail(f"hosts[{hosts.index(ipa_host)}].privilegedContainers", False,
                  "true on the host of FreeIPA when identity.mode is 'container' (it needs a privileged "
                  "container with the host cgroup namespace); or set identity.mode 'external'")
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", identity.realm):
        _fail("identity.realm", identity.realm, "lower-case letters, digits and hyphens")

    integ = _as_mapping("integrations", raw.get("integrations", {}))
    for k in integ:
        if k != "disabled":
            _fail(f"integrations.{k}", integ[k], "only 'disabled': a list of integration ids such as 'sso:keycloak->nextcloud'")
    disabled = _as_list("integrations.disabled", integ.get("disabled", []))
    for d in disabled:
        if not isinstance(d, str) or not re.match(r"^[a-z-]+:[a-z0-9-]+->[a-z0-9-]+$", d):
            _fail("integrations.disabled", d, "integration ids of the form '<kind>:<from>-><to>'")

    protect = raw.get("protectData", True)
    if not isinstance(protect, bool):
        _fail("protectData", protect, "true or false")

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
        directory_bind_password=bind_password,
        disabled_integrations=frozenset(disabled),
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
    bind = cfg.get_secret("directoryBindPassword") if cfg.get("directoryBindPassword") else None
    if bind is not None:
        from pulumi.runtime.config import is_config_secret

        if not is_config_secret(f"{NAMESPACE}:directoryBindPassword"):
            raise ConfigError("directoryBindPassword", "<plain text, not shown>",
                              "a secret: `pulumi config set --secret itstack:directoryBindPassword …`")
        secrets["directoryBindPassword"] = bind
    # Unknown keys in our namespace are typos: find them in the whole stack config.
    from pulumi.runtime.config import CONFIG, get_config_env

    for full_key in {**get_config_env(), **CONFIG.get()}:
        ns, _, key = full_key.partition(":")
        if ns == NAMESPACE and key not in KNOWN_KEYS:
            raw[key] = cfg.get(key)
    return load_settings(pulumi.get_stack(), raw, secrets)
