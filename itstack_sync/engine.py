"""The sync engine: one-way flows (source → target) and the two-way customer flow.

Guarantees (issue 11), and where each comes from:
- idempotent: the ID map (store.id_map) decides create vs update vs nothing; a record whose mapped
  payload has the fingerprint already synced causes no write at all;
- resumable: before a create the engine commits a `pending` intent; a run killed after the app
  created the record but before the ID map knew finds it again by the flow's correlation key
  (`Target.find`) instead of creating it twice; the cursor moves only in the transaction that
  records a page's outcome, so nothing is skipped;
- retries: Transient errors are retried inside the connectors (Backoff); if they persist the run
  stops, the cursor stays, the next run repeats the page;
- dead letters: Permanent errors (4xx, refused login, validation, garbage, a renamed field) put that
  record in dead_letters with the reason and the flow goes on with the next one;
- logs: flow names, counts and opaque ids only, never a record's fields or a credential.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Protocol

from itstack_sync.errors import AuthFailed, Invalid, Permanent, SyncError, Transient
from itstack_sync.store import MapRow, Store

log = logging.getLogger("itstack_sync")


@dataclass
class Change:
    key: str               # the record's id in the source app
    data: dict | None      # None: deleted or closed at the source
    cursor: str            # the source position just after this change


class Source(Protocol):
    def changes(self, cursor: str | None) -> Iterator[list[Change]]: ...


class Target(Protocol):
    def find(self, keys: list[str]) -> dict[str, str]: ...
    def create(self, key: str, payload: dict) -> str: ...
    def update(self, target_id: str, payload: dict) -> None: ...
    def delete(self, target_id: str) -> None: ...


@dataclass
class RunResult:
    flow: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    dead: int = 0
    error: str | None = None

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.deleted + self.unchanged + self.dead


def fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def require(data: dict, *names: str) -> None:
    """A field the mapping needs is absent: the app renamed or dropped it, or the record is broken."""
    missing = [n for n in names if n not in data]
    if missing:
        raise Invalid(f"source record lacks field(s) {', '.join(missing)} (renamed upstream?)")


class _Stop(SyncError):
    """A refused login while writing one record: that record is dead-lettered with the reason and
    the run stops there (cursor unmoved), instead of dead-lettering every record after it."""

    def __init__(self, key: str, reason: str):
        super().__init__(reason)
        self.key = key


def _guard(key: str, fn):
    try:
        return fn()
    except AuthFailed as e:
        raise _Stop(key, e.reason) from None


class Flow:
    """A one-way flow: subclasses name the source, the target and `transform`."""
    name: str = ""
    source: Source
    target: Target

    def transform(self, key: str, data: dict) -> dict:
        raise NotImplementedError


def _create_many(target, items: list[tuple[str, dict]]) -> tuple[dict[str, str], dict[str, str]]:
    """Create in one call where the target can (Odoo's create takes a list); if the batch call is
    refused, one by one, so one bad record does not sink its neighbours."""
    ok: dict[str, str] = {}
    bad: dict[str, str] = {}
    if not items:
        return ok, bad
    many = getattr(target, "create_many", None)
    if many and len(items) > 1:
        try:
            return _guard(items[0][0], lambda: many(items)), bad
        except Transient:
            raise
        except _Stop:
            raise
        except Permanent:
            pass  # fall through to one by one to find the culprit
    for key, payload in items:
        try:
            ok[key] = _guard(key, lambda: target.create(key, payload))
        except (Transient, _Stop):
            raise
        except Permanent as e:
            bad[key] = e.reason
    return ok, bad


class Engine:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def run(self, flow) -> RunResult:
        result = RunResult(flow.name)
        try:
            try:
                if isinstance(flow, TwoWayFlow):
                    flow.run(self.store, result)
                else:
                    cursor = self.store.cursor(flow.name)
                    for page in flow.source.changes(cursor):
                        self._page(flow, page, result)
                    reconcile = getattr(flow, "reconcile", None)
                    if reconcile:
                        self._reconcile(flow, result)
            except _Stop as e:
                with self.store.tx() as c:
                    self.store.dead_letter(c, flow.name, e.key, e.reason)
                result.dead += 1
                log.warning("flow %s: record %s → dead letter: %s", flow.name, e.key, e.reason)
                raise
        except SyncError as e:
            # Transient that outlived its retries, or a whole-flow failure (refused login at the
            # source): nothing of the failed page is recorded as done; the next run repeats it.
            result.error = e.reason
            log.warning("flow %s stopped: %s", flow.name, e.reason)
        self.store.record_run(flow.name, ok=result.error is None, error=result.error,
                              oldest_pending=None, processed=result.processed)
        log.info("flow %s: %d created, %d updated, %d deleted, %d unchanged, %d dead letters",
                 flow.name, result.created, result.updated, result.deleted, result.unchanged, result.dead)
        return result

    def _page(self, flow: Flow, page: list[Change], result: RunResult) -> None:
        name, st, target = flow.name, self.store, flow.target
        # The last change per key wins within a page (a record edited twice).
        last: dict[str, Change] = {}
        for ch in page:
            last.pop(ch.key, None)
            last[ch.key] = ch
        dead: dict[str, str] = {}
        payloads: dict[str, dict] = {}
        deletes: list[str] = []
        for key, ch in last.items():
            if ch.data is None:
                deletes.append(key)
                continue
            try:
                payloads[key] = flow.transform(key, ch.data)
            except AuthFailed as e:  # a lookup in the transform was refused: stop, as for writes
                raise _Stop(key, e.reason) from None
            except Permanent as e:
                dead[key] = e.reason
        rows = st.rows(name, list(last))
        fresh, stale, updates, done = [], [], [], []
        for key, p in payloads.items():
            r = rows.get(key)
            if r is None or r.state == "deleted":
                fresh.append(key)
            elif r.state == "pending":
                stale.append(key)
            elif r.fingerprint != fingerprint(p):
                updates.append((key, r.target_id))
            else:
                result.unchanged += 1
                done.append(key)
        if fresh:
            # The intent, committed before the app is asked to create anything.
            with st.tx() as c:
                st.put(c, name, [MapRow(k, None, "pending", None, None) for k in fresh])
        found = target.find(stale) if stale else {}
        for k in stale:
            if k in found:
                updates.append((k, found[k]))  # created before a crash; bring it up to date
        to_create = fresh + [k for k in stale if k not in found]
        created, refused = _create_many(target, [(k, payloads[k]) for k in to_create])
        dead.update(refused)
        finished: list[MapRow] = [MapRow(k, created[k], "done", fingerprint(payloads[k]), None) for k in created]
        result.created += len(created)
        for key, tid in updates:
            try:
                _guard(key, lambda: target.update(tid, payloads[key]))
            except (Transient, _Stop):
                raise
            except Permanent as e:
                dead[key] = e.reason
                continue
            finished.append(MapRow(key, tid, "done", fingerprint(payloads[key]), None))
            result.updated += 1
        gone: list[MapRow] = []
        for key in deletes:
            r = rows.get(key)
            if r is None or r.state == "deleted":
                result.unchanged += 1
                continue
            tid = r.target_id or target.find([key]).get(key)
            if tid:
                try:
                    _guard(key, lambda: target.delete(tid))
                except (Transient, _Stop):
                    raise
                except Permanent as e:
                    dead[key] = e.reason
                    continue
            gone.append(MapRow(key, tid, "deleted", None, None))
            result.deleted += 1
        result.dead += len(dead)
        with st.tx() as c:
            st.put(c, name, finished + gone)
            # A refused create keeps its `pending` intent: the app may have created it before it
            # refused to say so (a garbage answer); the next change of the record looks first.
            for key, reason in dead.items():
                st.dead_letter(c, name, key, reason)
                log.warning("flow %s: record %s → dead letter: %s", name, key, reason)
            st.resolve_dead(c, name, [r.source_id for r in finished + gone] + done)
            st.set_cursor(c, name, page[-1].cursor)

    def _reconcile(self, flow: Flow, result: RunResult) -> None:
        """Sources that do not list deletions (SuiteCRM hides deleted rows): what the ID map holds
        and the source no longer has was deleted there."""
        live = self.store.all_live(flow.name)
        if not live:
            return
        missing = set(live) - set(flow.reconcile(list(live)))
        if missing:
            self._page(flow, [Change(k, None, self.store.cursor(flow.name) or "") for k in sorted(missing)], result)


# --- the two-way flow ---------------------------------------------------------------------------

class Side(Protocol):
    """One app of a two-way flow, speaking canonical field dicts."""
    def changes(self, cursor: str | None) -> Iterator[list[Change]]: ...
    def read(self, ids: list[str]) -> dict[str, dict | None]: ...
    def create(self, fields: dict, key: str) -> str: ...
    def update(self, id: str, fields: dict) -> None: ...
    def close(self, id: str) -> None: ...


@dataclass
class FieldRule:
    """Who wins a field when both sides changed it since the last sync, and whether a side may
    write it at all (`owner`: the field is read-only on the other side)."""
    winner: str                  # "a" or "b"
    owner: str | None = None     # "a"/"b": only that side's value ever counts
    why: str = ""


def merge(rules: dict[str, FieldRule], snap: dict | None, a: dict | None, b: dict | None) -> tuple[dict, dict]:
    """Per field: equal → keep; only one side changed since the snapshot → take it; both → the rule.
    Returns (merged, conflicts {field: winner})."""
    snap = snap or {}
    out, conflicts = {}, {}
    for f, rule in rules.items():
        va = (a or {}).get(f)
        vb = (b or {}).get(f)
        vs = snap.get(f)
        if rule.owner:
            owner_rec = a if rule.owner == "a" else b
            if owner_rec is not None:
                out[f] = va if rule.owner == "a" else vb
            else:  # the owner's record is not at hand (a create from the other side): keep what we know
                out[f] = vs if f in snap else (vb if rule.owner == "a" else va)
            continue
        if a is None:
            out[f] = vb
        elif b is None:
            out[f] = va
        elif va == vb:
            out[f] = va
        elif va == vs:
            out[f] = vb
        elif vb == vs:
            out[f] = va
        else:
            out[f] = va if rule.winner == "a" else vb
            conflicts[f] = rule.winner
    return out, conflicts


class TwoWayFlow:
    """Side a is the ID map's source (key = a's id), side b its target. Each run reads a's changes,
    then b's, merges each changed pair against the last synced snapshot with `rules`, writes only
    the fields a side lacks, and creates a record on the other side for an unmapped one.
    A record created in b gets a deterministic id in a (`a_id_for`), so a run killed between the two
    writes finds it again instead of creating it twice."""
    name = ""
    rules: dict[str, FieldRule] = {}
    a: Side
    b: Side

    def a_id_for(self, b_id: str) -> str:
        raise NotImplementedError

    def a_key(self, a_id: str) -> str:
        """The correlation key b stores for an a-record (Odoo's `ref`)."""
        raise NotImplementedError

    def _side_only(self, m: dict, side: str) -> dict:
        """The fields to write to `side`: never those it owns (its own value is the truth, and
        owned fields such as Odoo's total_invoiced are computed there)."""
        return {f: v for f, v in m.items() if self.rules[f].owner != side}

    def run(self, st: Store, result: RunResult) -> None:
        self.conflicts: list[tuple[str, str, str]] = []
        for side in ("a", "b"):
            cur_name = f"{self.name}.{side}"
            src = self.a if side == "a" else self.b
            for page in src.changes(st.cursor(cur_name)):
                self._page(st, side, page, result)
                with st.tx() as c:
                    st.set_cursor(c, cur_name, page[-1].cursor)
        existing = getattr(self.a, "existing", None)
        if existing:
            # a does not list deletions (SuiteCRM hides deleted rows): compare with the ID map
            live = st.all_live(self.name)
            if live:
                gone = sorted(set(live) - set(existing(list(live))))
                if gone:
                    self._page(st, "a", [Change(k, None, "") for k in gone], result)

    def _page(self, st: Store, side: str, page: list[Change], result: RunResult) -> None:
        name = self.name
        last = {ch.key: ch for ch in page}
        rows = st.rows(name, list(last)) if side == "a" else st.rows_by_target(name, list(last))
        pairs = {k: rows.get(k) for k in last}
        dead: dict[str, str] = {}
        todo = []
        for key, ch in last.items():
            row = pairs[key]
            if getattr(ch.data, "reason", None):  # the side could not map it (flows._Bad)
                dead[key if side == "a" else f"b:{key}"] = ch.data.reason
            elif row and row.state == "done" and ch.data is not None and ch.data == row.snapshot:
                result.unchanged += 1  # this side holds what was last synced: nothing to merge
            else:
                todo.append(key)
        fresh = [k for k in todo if pairs[k] is None and last[k].data is not None]
        if side == "a" and len(fresh) > 1 and hasattr(self.b, "create_many"):
            todo = [k for k in todo if k not in fresh] + self._create_batch(st, fresh, last, result)
        # The other side's current values for the pairs left, in one read.
        other = self.b if side == "a" else self.a
        other_ids = [(r.target_id if side == "a" else r.source_id) for k in todo if (r := pairs[k])
                     and r.state != "deleted" and (r.target_id if side == "a" else r.source_id)]
        current = other.read(other_ids) if other_ids else {}
        for key in todo:
            row = pairs[key]
            if row is None and key not in fresh:
                row = (st.rows(name, [key]) if side == "a" else st.rows_by_target(name, [key])).get(key)
            try:
                self._one(st, side, key, last[key].data, row, current, result)
            except Transient:
                raise
            except AuthFailed as e:
                raise _Stop(key if side == "a" else f"b:{key}", e.reason) from None
            except Permanent as e:
                dead_key = key if side == "a" else f"b:{key}"
                dead[dead_key] = e.reason
        if dead:
            result.dead += len(dead)
            with st.tx() as c:
                for k, reason in dead.items():
                    st.dead_letter(c, name, k, reason)
                    log.warning("flow %s: record %s → dead letter: %s", name, k, reason)

    def _create_batch(self, st: Store, keys: list[str], last: dict, result: RunResult) -> list[str]:
        """New a-records, created in b with one call (intents first, as for one-way flows).
        Returns the keys left for one-by-one handling (all of them if b refused the batch)."""
        merged = {k: merge(self.rules, None, last[k].data, None)[0] for k in keys}
        with st.tx() as c:
            st.put(c, self.name, [MapRow(k, None, "pending", None, None) for k in keys])
        try:
            ids = self.b.create_many([(self.a_key(k), self._side_only(merged[k], "b")) for k in keys])
        except AuthFailed as e:
            raise _Stop(keys[0], e.reason) from None
        except Transient:
            raise
        except Permanent:
            return keys  # one of them is refused: one by one finds which (their intents stay)
        with st.tx() as c:
            st.put(c, self.name, [MapRow(k, ids[i], "done", None, merged[k]) for i, k in enumerate(keys)])
            st.resolve_dead(c, self.name, keys)
        result.created += len(keys)
        return []

    def _one(self, st: Store, side: str, key: str, data: dict | None, row: MapRow | None, current, result) -> None:
        name = self.name
        if row is not None and row.state == "deleted":
            result.unchanged += 1
            return
        if data is None:  # deleted/closed on this side: close the other, forget the pair
            if row is None:
                result.unchanged += 1
                return
            other_id = row.target_id if side == "a" else row.source_id
            if other_id:
                (self.b if side == "a" else self.a).close(other_id)
            with st.tx() as c:
                st.put(c, name, [MapRow(row.source_id, row.target_id, "deleted", None, row.snapshot)])
            result.deleted += 1
            return
        if row is not None and row.state == "pending" and row.target_id:
            # a b-originated create was interrupted; the a-side id is deterministic, finish it
            b_data = data if side == "b" else self.b.read([row.target_id]).get(row.target_id)
            if b_data is not None:
                self._create(st, "b", row.target_id, b_data, row, result)
            return
        if row is None or row.state == "pending":
            self._create(st, side, key, data, row, result)
            return
        other_id = row.target_id if side == "a" else row.source_id
        a_vals = data if side == "a" else current.get(other_id)
        b_vals = data if side == "b" else current.get(other_id)
        merged, conflicts = merge(self.rules, row.snapshot, a_vals, b_vals)
        for f, w in conflicts.items():
            self.conflicts.append((row.source_id, f, w))
        wrote = False
        if a_vals is not None:
            da = {f: v for f, v in self._side_only(merged, "a").items() if a_vals.get(f) != v}
            if da:
                self.a.update(row.source_id, da)
                wrote = True
        if b_vals is not None:
            db = {f: v for f, v in self._side_only(merged, "b").items() if b_vals.get(f) != v}
            if db:
                self.b.update(row.target_id, db)
                wrote = True
        if wrote or merged != row.snapshot:
            with st.tx() as c:
                st.put(c, name, [MapRow(row.source_id, row.target_id, "done", None, merged)])
                st.resolve_dead(c, name, [row.source_id])
        if wrote:
            result.updated += 1
        else:
            result.unchanged += 1

    def _create(self, st: Store, side: str, key: str, data: dict, row: MapRow | None, result) -> None:
        name = self.name
        merged, _ = merge(self.rules, None, data if side == "a" else None, data if side == "b" else None)
        if side == "a":
            a_id = key
            if row is None:
                with st.tx() as c:
                    st.put(c, name, [MapRow(a_id, None, "pending", None, None)])
                b_id = None
            else:
                b_id = self.b.find([self.a_key(a_id)]).get(self.a_key(a_id))
            if b_id is None:
                b_id = self.b.create(self._side_only(merged, "b"), self.a_key(a_id))
            with st.tx() as c:
                st.put(c, name, [MapRow(a_id, b_id, "done", None, merged)])
                st.resolve_dead(c, name, [a_id])
        else:
            b_id = key
            a_id = self.a_id_for(b_id)
            if row is None:
                with st.tx() as c:
                    st.put(c, name, [MapRow(a_id, b_id, "pending", None, None)])
            if not self.a.read([a_id]).get(a_id):
                self.a.create(self._side_only(merged, "a"), a_id)
            # b learns its correlation key, so a later a-side change finds the pair by ref too
            self.b.update(b_id, {"_key": self.a_key(a_id)})
            with st.tx() as c:
                st.put(c, name, [MapRow(a_id, b_id, "done", None, merged)])
                st.resolve_dead(c, name, [f"b:{b_id}"])
        result.created += 1
