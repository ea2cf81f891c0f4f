"""Every integration of the IT-Stack, as data: the seed map's (shared/seeds/it-stack-integration-map.md)
and the AgencyStack seed's kinds (email, sso, monitoring, data bridge), each a named unit that a
stack can switch and that the stack output records.

Plain data, no Pulumi: settings validates `itstack:integrations` against it before any resource,
and the gate (integrations/registry.py) decides and records from it while the program wires.

`status` says what this version of the program does with an entry:
- "wired": the program wires it when its services are deployed and its switch is on;
- "pending": not built yet; `note` says where it will be (the stack output reports it as pending);
- "not-wired": deliberately not built, `note` says why (a seed row the real apps contradict).
`version` is the version of an entry's wiring: bumped when what it deploys changes, so consumers
of the `integrations` output see it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("sso", "database", "cache", "search", "email", "directory", "monitoring", "logging",
         "notifications", "business", "telephony", "ingress")


@dataclass(frozen=True)
class Entry:
    kind: str
    source: str
    target: str
    method: str
    trigger: str
    # Services that must be deployed for the integration to exist (source and target at least).
    needs: tuple[str, ...] = ()
    # False where the target cannot run without it (its database): switching it off is an error.
    switchable: bool = True
    status: str = "wired"
    note: str = ""
    version: int = 1
    # The seed's own words for the row this entry answers, where they differ from ours.
    seed: str = ""
    needs_all: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "needs_all", tuple(dict.fromkeys((self.source, self.target) + self.needs)))

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.source}->{self.target}"


def _e(kind, source, target, method, trigger, **kw) -> Entry:
    return Entry(kind, source, target, method, trigger, **kw)


_SSO = {
    "nextcloud": "OIDC (user_oidc app); client roles admin/users -> Nextcloud groups",
    "mattermost": "OAuth 2.0 as a GitLab provider (Team Edition has no OIDC); uidNumber as the id claim",
    "jitsi": "OIDC code flow in a Prosody token bridge -> Jitsi JWT (HS256); guests join opened rooms",
    "zammad": "OIDC (public client, PKCE S256), auto-link by e-mail",
    "odoo": "OIDC authorization-code flow (auth_oauth + itstack_keycloak addon), client roles -> Odoo groups",
    "taiga": "OIDC authorization code (IT-Stack auth plugin); roles taiga-user/taiga-admin",
    "suitecrm": "SAML 2.0 (onelogin bundle, users created on first login)",
    "glpi": "SAML 2.0 (samlSSO plugin, just-in-time users)",
    "snipeit": "SAML 2.0 (users pre-provisioned by the LDAP import)",
    "zabbix": "SAML 2.0 (JIT provisioning; zabbix-admin -> Super admin, zabbix-user -> User)",
}

_DATABASE = {
    "keycloak": "postgresql", "nextcloud": "postgresql", "mattermost": "postgresql", "zammad": "postgresql",
    "odoo": "postgresql", "openkm": "postgresql", "taiga": "postgresql", "zabbix": "postgresql",
    "suitecrm": "mariadb", "glpi": "mariadb", "snipeit": "mariadb", "freepbx": "mariadb",
}
_MARIADB_SEED = "seed: PostgreSQL; the app supports only MySQL/MariaDB (research/itstack-spec.md §4.8)"

_MAIL = ("nextcloud", "mattermost", "zammad", "freepbx", "suitecrm", "odoo", "openkm", "taiga", "snipeit",
         "glpi", "zabbix", "graylog")

_ROUTED = ("keycloak", "nextcloud", "mattermost", "jitsi", "iredmail", "freepbx", "zammad", "suitecrm", "odoo",
           "openkm", "taiga", "snipeit", "glpi", "zabbix", "graylog")

_MONITORED = ("freeipa", "keycloak", "postgresql", "mariadb", "redis", "elasticsearch", "nextcloud", "mattermost",
              "jitsi", "iredmail", "freepbx", "zammad", "suitecrm", "odoo", "openkm", "taiga", "snipeit", "glpi",
              "graylog")

_BUSINESS = (
    ("suitecrm", "odoo", "REST (SuiteCRM v8 JSON:API) <-> JSON-RPC (Odoo 18), bidirectional: customers, invoices",
     "scheduled + on save"),
    ("suitecrm", "nextcloud", "CalDAV: meetings -> Nextcloud calendar", "on meeting create"),
    ("suitecrm", "openkm", "REST: documents -> OpenKM, linked to the record", "on attach"),
    ("taiga", "odoo", "REST: timesheets -> Odoo billable lines", "daily batch"),
    ("odoo", "snipeit", "REST: approved purchase orders -> Snipe-IT assets", "on approval"),
    ("snipeit", "glpi", "REST: asset changes -> GLPI CMDB", "on change"),
    ("glpi", "zammad", "REST: major incident -> Zammad ticket", "on alert"),
    ("openkm", "nextcloud", "WebDAV: approved documents -> Nextcloud folder", "on approve"),
)
_SYNC = "carried by the sync service (issue 11), not deployed in this version"

ENTRIES: tuple[Entry, ...] = (
    # Identity: the directory first, then every app's sign-in.
    _e("directory", "freeipa", "keycloak", "LDAP read-only federation (users, groups)",
       "every 5 min (changed) / hourly (full)", switchable=False,
       note="Keycloak's users and groups come from the directory"),
    *(_e("sso", "keycloak", app, method, "login") for app, method in _SSO.items()),
    _e("directory", "freeipa", "zammad", "LDAP sync: admins group -> Admin, agents group -> Agent, others Customer",
       "hourly (Zammad scheduler) and at deploy"),
    _e("directory", "freeipa", "freepbx", "LDAP reachable with a read-only bind; the User Management directory "
       "is entered by an admin (extensions from directory users and voicemail auth are not automated yet)",
       "manual", seed="seed: extension provisioning and voicemail auth over LDAP"),
    _e("directory", "freeipa", "graylog", "LDAP authentication backend (Graylog Open has no OIDC/SAML), role Reader",
       "login"),
    _e("directory", "freeipa", "snipeit",
       "LDAP read-only import of snipeit-users/snipeit-admins (snipeit:ldap-sync)", "hourly"),
    _e("directory", "freeipa", "glpi",
       "LDAP groups glpi-admins/glpi-techs -> profiles Super-Admin/Technician", "every 5 min"),
    _e("directory", "freeipa", "odoo", "LDAP employee directory (uid)", "on login", status="pending",
       note="Odoo's auth_ldap wiring is not built yet"),
    # Data.
    *(_e("database", engine, app, "own database and role" if engine == "postgresql" else "own database and user",
         "deploy", switchable=False, note=f"{app} cannot run without its database",
         seed=_MARIADB_SEED if engine == "mariadb" and app != "freepbx" else "")
      for app, engine in _DATABASE.items()),
    _e("cache", "redis", "nextcloud", "own ACL user and logical database (cache, locking, sessions)", "always",
       switchable=False, note="Nextcloud's file locking needs it"),
    _e("cache", "redis", "zammad", "own ACL user and logical database (sessions, websocket)", "always",
       switchable=False, note="Zammad's sessions need it"),
    _e("cache", "redis", "keycloak", "-", "-", status="not-wired",
       note="Keycloak 26 keeps sessions in its embedded cache (KC_CACHE=local); nothing configures Redis for it"),
    _e("cache", "redis", "mattermost", "-", "-", status="not-wired",
       note="Mattermost Team Edition has no Redis support"),
    _e("search", "elasticsearch", "zammad", "full-text index (zammad-*)", "on change", switchable=False,
       note="Zammad's search needs it"),
    _e("search", "elasticsearch", "graylog", "-", "-", status="not-wired",
       note="Graylog 7 stores logs in OpenSearch, not Elasticsearch 8: it gets its own OpenSearch"),
    # Mail: the AgencyStack seed's integrate-email, through the stack's own mail server.
    *(_e("email", "iredmail", app, "SMTP submission (587, STARTTLS), own mailbox", "on notification")
      for app in _MAIL),
    # Watching.
    *(_e("monitoring", "zabbix", svc, "HTTP check of its route, or TCP check of its endpoint", "every 1 min")
      for svc in _MONITORED),
    _e("monitoring", "zabbix", "traefik", "HTTP check of Traefik's ping endpoint", "every 1 min", status="pending",
       note="Traefik is declared after Zabbix (it routes to every service); its own check is not built yet"),
    _e("logging", "traefik", "graylog", "JSON access log via Docker's gelf driver (UDP), stream web-access",
       "every request", seed="seed: JSON -> Syslog"),
    _e("notifications", "zabbix", "mattermost", "Zabbix webhook media type -> incoming webhook #ops-alerts",
       "problem / recovery event (severity >= Warning)"),
    _e("notifications", "taiga", "mattermost", "project webhook -> #dev-notifications", "on project event",
       status="pending", note="Taiga's webhook and the channel are not built yet"),
    _e("notifications", "graylog", "zabbix", "event notification -> Zabbix trapper item -> problem", "on alert",
       status="pending", note="not built yet", seed="seed: syslog stream"),
    # Business data and telephony (the seed's "Business integrations").
    *(_e("business", s, t, m, trig, status="pending", note=_SYNC) for s, t, m, trig in _BUSINESS),
    _e("telephony", "freepbx", "suitecrm", "AMI events -> SuiteCRM call log + caller-ID contact lookup",
       "incoming call", status="pending", note=_SYNC),
    _e("telephony", "freepbx", "zammad", "AMI events -> Zammad ticket", "call end", status="pending", note=_SYNC),
    # The edge.
    *(_e("ingress", "traefik", svc, "HTTPS route", "every request") for svc in _ROUTED),
)

CATALOGUE: dict[str, Entry] = {e.id: e for e in ENTRIES}
assert len(CATALOGUE) == len(ENTRIES), "duplicate integration ids"
assert all(e.kind in KINDS for e in ENTRIES)
