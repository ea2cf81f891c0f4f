"""itstack's policy rules as plain functions over a stack's resources.

No pulumi_policy import here: the unit lane runs these over the mocked graph (tests/harness.py)
from the project's .venv, whose protobuf/grpcio pulumi-policy cannot share; the pack
(policy/__main__.py, own virtualenv) runs the same functions under `pulumi preview --policy-pack`.

A resource is (type, name, urn, props, protect). In props a value the engine holds as a secret is
wrapped in `Secret`, and a value not known yet (preview) is `UNKNOWN`: rules judge only what they
can see. Messages never carry a secret's value.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

# The engine's marker for a value computed only at `up` (sdk/go/common/resource/plugin/rpc.go).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
PG_DATABASE = "postgresql:index/database:Database"
PG_ROLE = "postgresql:index/role:Role"
REALM = "keycloak:index/realm:Realm"
DYNAMIC = "pulumi-python:dynamic:Resource"
OIDC_CLIENT = "keycloak:openid/client:Client"
SAML_CLIENT = "keycloak:saml/client:Client"


@dataclass(frozen=True)
class Secret:
    value: Any

    def __repr__(self) -> str:  # never shown, even in a failing assertion
        return "Secret(<not shown>)"


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    props: dict
    protect: bool = False


@dataclass
class Context:
    stack: str
    prod: bool


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str


@dataclass
class Rule:
    name: str
    description: str
    check: Callable[[list[Resource], Context], Iterator[Violation]] = field(repr=False)


def from_wire(value: Any) -> Any:
    """A property as the engine sends it (JSON form of a protobuf Struct): secrets become
    `Secret`, everything else stays as is (UNKNOWN included)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(from_wire(value.get("value")))
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The value with every Secret unwrapped (for rules that parse content; never printed)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every known plain string inside value, not descending into secrets."""
    if isinstance(value, Secret) or value == UNKNOWN:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def credentials(r: Resource) -> Iterator[str]:
    """The values a resource holds as secrets in their own right: a secret string property
    (RandomPassword's result, a role's password, a client's secret). Strings inside a secret list or
    map (a whole env list, an upload) are not credentials by themselves: file names, URLs."""
    for value in r.props.values():
        if isinstance(value, Secret) and isinstance(value.value, str) and value.value != UNKNOWN:
            yield value.value


def _containers(resources: Iterable[Resource]) -> Iterator[Resource]:
    return (r for r in resources if r.type == CONTAINER)


def _cname(r: Resource) -> str:
    name = r.props.get("name")
    return name if isinstance(name, str) and name != UNKNOWN else r.name


# --- 1. no generated secret in a plain env, label or command ---------------------------------

# Credential-like names: an env variable or label so named must not carry a plain value.
CREDENTIAL = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL)", re.I)
# `--password=hunter2`, `token: abc…`; not `password=$VAR` (read from the env) nor SQL like
# `password=VALUES(password)`.
CREDENTIAL_ARG = re.compile(r"(?:^|[\s-])(?:password|passwd|secret|token)[=:]\s*['\"]?(?![$(])[^\s'\"$()]{4,}(?=[\s'\";]|$)", re.I)
# Values too short to be a generated secret would match by chance (ports, "true").
MIN_SECRET_LEN = 8


def _plain_secrets(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    known = {s for r in resources for s in credentials(r) if len(s) >= MIN_SECRET_LEN}
    for r in _containers(resources):
        fields = {"envs": r.props.get("envs"), "labels": r.props.get("labels"),
                  "command": r.props.get("command"), "entrypoints": r.props.get("entrypoints")}
        for key, value in fields.items():
            if value is None or isinstance(value, Secret):
                continue  # absent, or held as a secret by the engine
            for i, item in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(item, Secret):
                    continue
                where = f"{key}[{i}]"
                if key == "labels" and isinstance(item, dict):
                    label, text = item.get("label"), item.get("value")
                    where = f"label {label}"
                    named = isinstance(label, str) and CREDENTIAL.search(label)
                elif key == "envs" and isinstance(item, str) and "=" in item:
                    var, text = item.split("=", 1)
                    where = f"env {var}"
                    named = CREDENTIAL.search(var) and not var.endswith("_FILE")
                else:
                    text, named = item, False
                plain = list(_strings(text))
                if any(k in s for s in plain for k in known):
                    yield Violation("no-plain-secret", r.urn, f"container {_cname(r)}: {where} holds a generated "
                                    "secret in plain text; pass it as a Pulumi secret (the whole input is then secret)")
                elif named and any(s and s != UNKNOWN for s in plain):
                    yield Violation("no-plain-secret", r.urn, f"container {_cname(r)}: {where} is a credential "
                                    "with a plain value; pass it as a Pulumi secret")
                elif key in ("command", "entrypoints") and any(CREDENTIAL_ARG.search(s) for s in plain):
                    yield Violation("no-plain-secret", r.urn, f"container {_cname(r)}: {where} passes a credential "
                                    "on the command line in plain text")


# --- 2. images pinned by digest in prod -------------------------------------------------------

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _image_digests(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    if not ctx.prod:
        return
    for r in resources:
        if r.type == IMAGE:
            ref = r.props.get("name")
            if isinstance(ref, str) and ref != UNKNOWN and not DIGEST.search(ref):
                yield Violation("prod-images-pinned", r.urn, f"image {ref} is not pinned by digest "
                                "('repository:tag@sha256:…'); prod deploys only what was reviewed")
        elif r.type == CONTAINER:
            ref = r.props.get("image")
            # sha256:<id> is what a RemoteImage resolved; anything else is a tag the engine pulls.
            if isinstance(ref, str) and ref != UNKNOWN and not ref.startswith("sha256:") and not DIGEST.search(ref):
                yield Violation("prod-images-pinned", r.urn, f"container {_cname(r)} runs image {ref}, "
                                "not pinned by digest")


# --- 3. health check, limits and restart policy on every long-running container ---------------

RESTARTS = {"always", "unless-stopped", "on-failure"}


def long_running(r: Resource) -> bool:
    """One-shot containers (setup jobs) say so: must_run false and no restart policy."""
    return not (r.props.get("mustRun") is False and r.props.get("restart") in (None, "no"))


def _long_running(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    for r in _containers(resources):
        if not long_running(r):
            continue
        p = r.props
        hc = p.get("healthcheck")
        tests = hc.get("tests") if isinstance(hc, dict) else None
        if not tests or tests == UNKNOWN or (isinstance(tests, list) and tests[:1] == ["NONE"]):
            yield Violation("long-running-containers", r.urn, f"container {_cname(r)} has no health check")
        mem = p.get("memory")
        if mem != UNKNOWN and not (isinstance(mem, (int, float)) and mem > 0):
            yield Violation("long-running-containers", r.urn, f"container {_cname(r)} has no memory limit")
        restart = p.get("restart")
        if restart != UNKNOWN and restart not in RESTARTS:
            yield Violation("long-running-containers", r.urn, f"container {_cname(r)} has restart policy "
                            f"{restart or 'none'}; a long-running container needs one of {sorted(RESTARTS)}")


# --- 4. privileged only for FreeIPA ------------------------------------------------------------

def _privileged(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    for r in _containers(resources):
        if r.props.get("privileged") is True and not _cname(r).endswith("-freeipa"):
            yield Violation("privileged-only-freeipa", r.urn, f"container {_cname(r)} is privileged; only "
                            "FreeIPA (systemd in the container) may be")


# --- 5. TLS on every route (Traefik) -----------------------------------------------------------

def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml  # PyYAML: in the project's .venv and the pack's
    except ImportError:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _routers(config: Any) -> dict:
    if isinstance(config, dict) and isinstance(config.get("http"), dict):
        routers = config["http"].get("routers")
        return routers if isinstance(routers, dict) else {}
    return {}


def _tls_routes(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    for r in _containers(resources):
        uploads = reveal(r.props.get("uploads"))
        for up in uploads if isinstance(uploads, list) else []:
            content = up.get("content") if isinstance(up, dict) else None
            if not isinstance(content, str) or content == UNKNOWN:
                continue
            for name, router in _routers(_parse(content)).items():
                if not isinstance(router, dict) or "tls" not in router:
                    yield Violation("tls-on-every-route", r.urn, f"container {_cname(r)}: Traefik router {name} "
                                    f"(in {up.get('file')}) serves without TLS")
        labels = reveal(r.props.get("labels"))
        pairs = {l.get("label"): l.get("value") for l in labels if isinstance(l, dict)} if isinstance(labels, list) else {}
        for label in pairs:
            m = re.fullmatch(r"traefik\.http\.routers\.([^.]+)\.rule", label or "")
            if m:
                tls = pairs.get(f"traefik.http.routers.{m.group(1)}.tls")
                resolver = pairs.get(f"traefik.http.routers.{m.group(1)}.tls.certresolver")
                if str(tls).lower() != "true" and not resolver:
                    yield Violation("tls-on-every-route", r.urn, f"container {_cname(r)}: Traefik router "
                                    f"{m.group(1)} (labels) serves without TLS")


# --- 6. no wildcard redirect URIs ------------------------------------------------------------

def _wildcards(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    for r in resources:
        if r.type not in (OIDC_CLIENT, SAML_CLIENT):
            continue
        for key in ("validRedirectUris", "validPostLogoutRedirectUris", "webOrigins"):
            for uri in _strings(r.props.get(key)):
                if "*" in uri:
                    yield Violation("no-wildcard-redirects", r.urn, f"Keycloak client {r.props.get('clientId', r.name)}: "
                                    f"{key} has a wildcard ({uri}); give exact URIs")


# --- 7. prod data protected ----------------------------------------------------------------

def holds_data(r: Resource) -> bool:
    """Volumes, PostgreSQL databases and roles, the MariaDB database resources
    (mariadb_database.py) and Keycloak realms: deleting one of these deletes data (DROP DATABASE,
    DROP ROLE, the realm's users and settings)."""
    if r.type in (VOLUME, PG_DATABASE, PG_ROLE, REALM):
        return True
    return r.type == DYNAMIC and r.name.startswith("mariadb-") and "database" in r.props


def _prod_data(resources: list[Resource], ctx: Context) -> Iterator[Violation]:
    if not ctx.prod:
        return
    for r in resources:
        if holds_data(r) and not r.protect:
            yield Violation("prod-data-protected", r.urn, f"{r.type.split(':')[-1]} {r.name} holds data and is not "
                            "protected in prod (protect=True keeps `destroy` or a replacement from deleting it)")


RULES = [
    Rule("no-plain-secret", "No generated secret in a plain container env, label or command.", _plain_secrets),
    Rule("prod-images-pinned", "In prod every image is pinned by digest.", _image_digests),
    Rule("long-running-containers", "Every long-running container has a health check, a memory limit and a "
         "restart policy.", _long_running),
    Rule("privileged-only-freeipa", "Only FreeIPA's container runs privileged.", _privileged),
    Rule("tls-on-every-route", "Every Traefik route is served over TLS.", _tls_routes),
    Rule("no-wildcard-redirects", "No Keycloak client accepts wildcard redirect URIs or origins.", _wildcards),
    Rule("prod-data-protected", "In prod every resource that holds data is protected.", _prod_data),
]


def check(resources: list[Resource], ctx: Context) -> list[Violation]:
    return [v for rule in RULES for v in rule.check(resources, ctx)]
