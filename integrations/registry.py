"""The one gate every integration goes through: it decides, and it records what it decided.

The code that wires an integration asks `use(id)`; the answer comes from the catalogue
(integrations/catalogue.py), the stack's switches (`itstack:integrations`) and the services the stack
deploys, and the same answer is what the stack output `integrations` reports. So the record cannot
disagree with what is deployed: what is off was never wired, and what was wired is applied.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from integrations.catalogue import CATALOGUE, KINDS, Entry

__all__ = ["KINDS", "CATALOGUE", "Switches", "Integrations", "UnwiredIntegration"]


@dataclass(frozen=True)
class Switches:
    """`itstack:integrations`: per kind (AgencyStack's integrate-<kind>) and per id; an id's own
    switch wins over its kind's. Everything is on unless switched off."""

    kinds: dict[str, bool] = field(default_factory=dict)
    ids: dict[str, bool] = field(default_factory=dict)

    def off_by(self, entry: Entry) -> str | None:
        """The setting that switches `entry` off, or None when it is on."""
        if entry.id in self.ids:
            return None if self.ids[entry.id] else f"itstack:integrations.disabled ({entry.id})"
        if self.kinds.get(entry.kind) is False:
            return f"itstack:integrations.kinds.{entry.kind}"
        return None


class UnwiredIntegration(RuntimeError):
    """An integration that should be applied was not wired, or one that is off was wired: a bug in
    the program, never a user error. Raised before the stack exports a record that would lie."""


class Integrations:
    def __init__(self, services: Iterable[str], switches: Switches | None = None):
        self.services = frozenset(services)
        self.switches = switches or Switches()
        self._applied: dict[str, dict[str, Any]] = {}
        self._skipped: dict[str, str] = {}

    def _entry(self, id_: str) -> Entry:
        try:
            return CATALOGUE[id_]
        except KeyError:
            raise UnwiredIntegration(f"integration {id_!r} is not in integrations/catalogue.py") from None

    def missing(self, entry: Entry) -> list[str]:
        return [s for s in entry.needs_all if s not in self.services]

    def wanted(self, id_: str) -> bool:
        """Would `use(id_)` say yes? (Asks without recording.)"""
        entry = self._entry(id_)
        return entry.status == "wired" and not self.missing(entry) and self.switches.off_by(entry) is None

    def use(self, id_: str, **endpoints: Any) -> bool:
        """True if the caller is to wire `id_` now; recorded as applied, with `endpoints` (names
        and URLs only, never a credential) for the stack output."""
        if not self.wanted(id_):
            return False
        self._applied[id_] = {k: v for k, v in endpoints.items() if v is not None}
        return True

    def skip(self, id_: str, reason: str) -> None:
        """`id_` does not apply to this stack's configuration although its services are deployed
        (e.g. a directory the site runs itself); recorded as not-applicable, with the reason."""
        if id_ in self._applied:
            raise UnwiredIntegration(f"integration {id_} was wired and then skipped")
        if self.wanted(id_):
            self._skipped[id_] = reason

    def state(self, id_: str) -> dict[str, Any]:
        entry = self._entry(id_)
        row: dict[str, Any] = {"id": entry.id, "kind": entry.kind, "source": entry.source, "target": entry.target,
                               "method": entry.method, "trigger": entry.trigger, "version": entry.version}
        missing = self.missing(entry)
        off_by = self.switches.off_by(entry)
        if id_ in self._applied:
            row.update(state="applied", endpoints=self._applied[id_])
        elif missing:
            row.update(state="unavailable", missing=missing)
        elif entry.status != "wired":
            row.update(state=entry.status, note=entry.note)
        elif off_by:
            row.update(state="off", off_by=off_by)
        elif id_ in self._skipped:
            row.update(state="not-applicable", note=self._skipped[id_])
        else:
            raise UnwiredIntegration(
                f"integration {id_} is on and its services ({', '.join(entry.needs_all)}) are deployed, but no code "
                "wired it: the record would claim what is not deployed")
        return row

    def states(self) -> list[dict[str, Any]]:
        """Every catalogue entry with its state: applied, off (by which setting), unavailable (which
        services are missing), not-applicable (why), pending or not-wired (with why)."""
        return [self.state(i) for i in sorted(CATALOGUE)]

    def applied(self) -> list[dict[str, Any]]:
        """The rows of what was wired (state applied)."""
        return [self.state(i) for i in sorted(self._applied)]
