"""The stack outputs other teams read by StackReference: ONE schema.

`stack.export_contract` exports through `export()` below, which refuses a key that is not here
and makes every `secret` output a Pulumi secret; docs/outputs.md is generated from it
(scripts/contract.py docs); tests/test_contract.py checks what every stack really exports against
it, and that a change carries a `VERSION` bump of the right kind against the snapshots of the
released versions (contract/snapshots/<version>.json, written by scripts/contract.py snapshot).

To change an output: edit its `Output` here (a new key gets `since=` the new version), bump
`VERSION` (removed or retyped key, or a narrower condition: major; new key or field: minor), run
`scripts/contract.py docs`, and `scripts/contract.py snapshot` when the version is released.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from contract.types import BOOLEAN, INTEGER, MAJOR, MINOR, STRING, ListOf, MapOf, Obj, Type, change_kind  # noqa: F401

VERSION = "2.0.0"

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@dataclass(frozen=True)
class When:
    """When a stack has the output: `text` for the docs (and snapshots), `holds` on its settings."""

    text: str
    holds: Callable[[Any], bool]


ALWAYS = When("always", lambda s: True)


def enabled(service: str) -> When:
    return When(f"{service} enabled", lambda s: s.enabled(service))


@dataclass(frozen=True)
class Output:
    key: str
    type: Type
    description: str
    since: str
    secret: bool = False
    when: When = ALWAYS
    example: str = ""

    def shape(self) -> dict:
        """What consumers may rely on; descriptions and examples are not part of it."""
        return {"type": self.type.shape(), "secret": self.secret, "when": self.when.text, "since": self.since}


ENDPOINT = Obj({"host": STRING, "port": INTEGER, "engine": STRING})
INTEGRATION = Obj({**{k: STRING for k in ("id", "kind", "source", "target", "method", "trigger", "state")},
                   "version": INTEGER, "note": STRING, "off_by": STRING, "missing": ListOf(STRING),
                   "endpoints": MapOf(STRING, key="name")},
                  optional=frozenset({"note", "off_by", "missing", "endpoints"}))

OUTPUTS: tuple[Output, ...] = (
    Output("contract_version", STRING, "semver of this contract", "1.0.0", example="`1.0.0`"),
    Output("domain", STRING, "the one domain every URL, DN and entity id derives from", "1.0.0",
           example="`it-stack.lab`"),
    Output("services", ListOf(STRING), "enabled services, catalogue order", "1.0.0",
           example='`["freeipa", "keycloak", …]`'),
    Output("placement", MapOf(STRING, key="service"), "the host each service runs on (prod: IT-Stack's 8 hosts)",
           "1.0.0", example='`{"keycloak": "local"}`'),
    Output("urls", MapOf(STRING, key="service"), "public HTTPS URL of each routed service", "1.0.0",
           example='`{"keycloak": "https://sso.it-stack.lab"}`'),
    Output("integrations", ListOf(INTEGRATION),
           "every integration of the catalogue (integrations/catalogue.py) with its `state`: `applied` (with its "
           "`endpoints`), `off` (`off_by`: the setting), `unavailable` (`missing`: services not deployed), "
           "`not-applicable`, `pending` or `not-wired` (`note`: why); `version` changes when its wiring does. "
           "Until 2.0.0 the list held only what was applied", "1.0.0",
           example='`{"id": "sso:keycloak->nextcloud", "state": "applied", …}`'),
    Output("unpinned_images", ListOf(STRING), "images without a verified digest", "1.0.0",
           example='`["jitsi/web: jitsi/web:stable-10888"]`'),
    Output("identity", Obj({"url": STRING, "realm": STRING, "issuer": STRING, "admin_url": STRING}),
           "the OIDC issuer of the realm; `admin_url` is where the engine reaches Keycloak's admin API", "1.0.0",
           when=enabled("keycloak"), example='`{"realm": "it-stack", "issuer": "https://sso.it-stack.lab/realms/it-stack", …}`'),
    Output("keycloak_admin_password", STRING, "master-realm bootstrap admin", "1.0.0", secret=True,
           when=enabled("keycloak")),
    Output("directory", Obj({k: STRING for k in ("ldap_url", "base_dn", "users_dn", "groups_dn", "bind_dn", "mode")}),
           "FreeIPA's LDAP layout; `mode` is container or external", "1.0.0", when=enabled("freeipa")),
    Output("database_endpoints", MapOf(ENDPOINT, key="engine"),
           "admin endpoints of the shared databases (published on the data host's address)", "1.0.0",
           example='`{"postgresql": {"host": "127.0.0.1", "port": 15432, "engine": "postgresql"}}`'),
    Output("postgresql_admin_password", STRING, "PostgreSQL superuser", "1.0.0", secret=True,
           when=enabled("postgresql")),
    Output("mariadb_root_password", STRING, "MariaDB root", "1.0.0", secret=True, when=enabled("mariadb")),
    Output("edge", Obj({"http_port": INTEGER, "https_port": INTEGER, "tls_mode": STRING, "dashboard_url": STRING}),
           "Traefik's published ports (dev: shifted by 10000), TLS mode and dashboard", "1.0.0",
           when=enabled("traefik")),
    Output("traefik_dashboard_password", STRING, "user `admin` at `edge.dashboard_url`", "1.0.0", secret=True,
           when=enabled("traefik")),
    Output("tls_ca_certificate", STRING, "the CA to trust (PEM)", "1.0.0",
           when=When("traefik enabled and tls.mode self-signed",
                     lambda s: s.enabled("traefik") and s.tls.mode == "self-signed")),
    Output("apps", MapOf(Obj({"url": STRING}, open=True), key="service"),
           "per-app public facts: URL, and where it has them its Keycloak client id or SAML entity id, API URL, "
           "local admin user name", "1.0.0", example='`{"nextcloud": {"url", "client_id", …}}`'),
    Output("app_admin_passwords", MapOf(STRING, key="service"),
           "break-glass local administrators of the apps that have one", "1.0.0", secret=True),
)

BY_KEY = {o.key: o for o in OUTPUTS}


def export(values: dict[str, Any]) -> None:
    """pulumi.export each value under its contract key, secrets as secrets. A key that is not in
    the contract is an error: an output cannot change without the schema (and its version)."""
    import pulumi

    unknown = sorted(set(values) - set(BY_KEY))
    if unknown:
        raise KeyError(f"outputs not in the contract (contract/__init__.py): {unknown}")
    for o in OUTPUTS:
        if o.key in values:
            v = values[o.key]
            pulumi.export(o.key, pulumi.Output.secret(v) if o.secret else v)


def expected_keys(settings) -> set[str]:
    return {o.key for o in OUTPUTS if o.when.holds(settings)}


# --- versions -----------------------------------------------------------------------------

def schema() -> dict:
    """The snapshot form of the current contract."""
    return {"version": VERSION, "outputs": {o.key: o.shape() for o in OUTPUTS}}


def parse_version(v: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in v.split("."))
    return major, minor, patch


def snapshots() -> dict[str, dict]:
    """Released versions -> their snapshot, oldest first."""
    found = {p.stem: json.loads(p.read_text()) for p in SNAPSHOTS.glob("*.json")}
    return dict(sorted(found.items(), key=lambda kv: parse_version(kv[0])))


def changes(old: dict, new: dict) -> list[tuple[str, str]]:
    """[(major|minor, what)] from snapshot `old` to snapshot `new`."""
    out: list[tuple[str, str]] = []
    o, n = old["outputs"], new["outputs"]
    for k in o:
        if k not in n:
            out.append((MAJOR, f"{k} removed"))
            continue
        out += change_kind(o[k]["type"], n[k]["type"], k)
        if o[k]["secret"] != n[k]["secret"]:
            # Either way breaks a consumer: a secret it must now unwrap, or a secret made plain.
            out.append((MAJOR, f"{k} {'is no longer' if o[k]['secret'] else 'became'} a secret"))
        if o[k]["when"] != n[k]["when"]:
            kind = MINOR if n[k]["when"] == "always" else MAJOR
            out.append((kind, f"{k} present when {n[k]['when']!r} (was {o[k]['when']!r})"))
    for k in n:
        if k not in o:
            out.append((MINOR, f"{k} added"))
    return out


def required_bump(old: dict, new: dict) -> str | None:
    kinds = {k for k, _ in changes(old, new)}
    return MAJOR if MAJOR in kinds else MINOR if MINOR in kinds else None


def bump_kind(old_version: str, new_version: str) -> str | None:
    """major | minor | patch | None (not a step up)."""
    o, n = parse_version(old_version), parse_version(new_version)
    if n <= o:
        return None
    return MAJOR if n[0] > o[0] else MINOR if n[1] > o[1] else "patch"


# --- docs ---------------------------------------------------------------------------------

def render_markdown() -> str:
    rows = []
    for o in OUTPUTS:
        typ = f"**secret** {o.type.describe()}" if o.secret else o.type.describe()
        cond = o.when.text
        rows.append(f"| `{o.key}` | {typ} | {cond} | {o.example} | {o.description} | {o.since} |")
    return "\n".join([
        "# Stack outputs: the contract for other teams",
        "",
        "<!-- Generated from contract/__init__.py by `scripts/contract.py docs`; edit the schema, not this file. -->",
        "",
        "Read them with a `StackReference` (`pulumi.StackReference(\"<org>/itstack/prod\")`);",
        "[examples/consumer](../examples/consumer/) is a small program that does. The contract is versioned by",
        f"`contract_version` (semver, now **{VERSION}**): a removed or retyped output, a field removed from an",
        "object, a secret made plain (or the reverse), or an output present in fewer stacks is a major bump;",
        "a new output or field is a minor bump. Credentials are only ever exported as **secrets**; a",
        "StackReference keeps them secret. Released versions are kept in `contract/snapshots/`.",
        "",
        "Types: `{a: T, …}` is an object with those fields (`…`: it may have more, not part of the",
        "contract); numbers arrive as JSON numbers (a consumer in Python may get `15432.0`).",
        "",
        "| output | type | present when | example (dev) | what | since |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Per-app client secrets and database passwords are not exported: each flows only into its own",
        "service. A team that needs a client or a database makes its own with credentials it is given",
        "for that (see examples/consumer), rather than reading an admin password from here.",
        "",
    ])
