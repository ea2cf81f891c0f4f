"""The record of cross-service integrations: each one a named unit with from, to, method, trigger.

Components register what they wire (`Integrations.add`); a stack can switch any integration
off by id with `itstack:integrations` ({"disabled": [ids]}); the stack exports the list of
what was applied, so other teams and reviewers see exactly which integrations exist.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

# Integration types (the AgencyStack seed's kinds, plus database and telephony).
KINDS = ("sso", "database", "cache", "search", "email", "monitoring", "logging", "notifications",
         "business-sync", "telephony", "directory", "ingress")


@dataclass(frozen=True)
class Integration:
    id: str  # e.g. "sso:keycloak->nextcloud"
    kind: str
    source: str
    target: str
    method: str  # e.g. "OIDC", "SAML 2.0", "LDAP read-only federation", "SMTP submission"
    trigger: str  # e.g. "login", "deploy", "every 5 min", "on event"


class Integrations:
    def __init__(self, disabled: frozenset[str] = frozenset()):
        self.disabled = disabled
        self._applied: dict[str, Integration] = {}

    def enabled(self, kind: str, source: str, target: str) -> bool:
        return f"{kind}:{source}->{target}" not in self.disabled

    def add(self, kind: str, source: str, target: str, method: str, trigger: str) -> Integration:
        if kind not in KINDS:
            raise ValueError(f"unknown integration kind {kind!r}; known: {', '.join(KINDS)}")
        integ = Integration(f"{kind}:{source}->{target}", kind, source, target, method, trigger)
        self._applied[integ.id] = integ
        return integ

    def applied(self) -> list[dict]:
        return [asdict(i) for i in sorted(self._applied.values(), key=lambda i: i.id)]
