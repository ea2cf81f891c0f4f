"""The service's state: ID map, cursors, dead letters, run health and the event inbox.

PostgreSQL in production (pg8000, paramstyle %s); the same SQL runs on SQLite so the unit lane
can run the engine without a server (the containers lane runs it on our PostgreSQL image).
Every change the engine makes to the state goes through `tx()`: one transaction per batch step.
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS id_map (
        flow TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT,
        state TEXT NOT NULL,             -- pending (create asked, not confirmed) | done | deleted
        fingerprint TEXT, snapshot TEXT, updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (flow, source_id))""",
    "CREATE INDEX IF NOT EXISTS id_map_target ON id_map (flow, target_id)",
    """CREATE TABLE IF NOT EXISTS cursors (
        flow TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS dead_letters (
        flow TEXT NOT NULL, source_id TEXT NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_at DOUBLE PRECISION NOT NULL, last_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (flow, source_id))""",
    """CREATE TABLE IF NOT EXISTS runs (
        flow TEXT PRIMARY KEY, last_attempt DOUBLE PRECISION, last_success DOUBLE PRECISION,
        last_error TEXT, oldest_pending DOUBLE PRECISION, processed BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS inbox (
        flow TEXT NOT NULL, event_id TEXT NOT NULL, seq TEXT NOT NULL, payload TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (flow, event_id))""",
]


@dataclass
class MapRow:
    source_id: str
    target_id: str | None
    state: str
    fingerprint: str | None
    snapshot: dict | None


class Store:
    def __init__(self, connect, *, qmark: bool = False):
        """`connect` returns a DB-API connection; `qmark` for SQLite's `?` placeholders."""
        self._connect = connect
        self.conn = connect()
        # one connection, shared by the scheduler, the health endpoint's threads and the AMI
        # listener: DB-API connections are not thread-safe, so one transaction at a time
        self._lock = threading.RLock()
        self.qmark = qmark
        with self.tx() as c:
            for stmt in SCHEMA:
                c.execute(stmt)

    @classmethod
    def sqlite(cls, path: str) -> "Store":
        import sqlite3
        return cls(lambda: sqlite3.connect(path, timeout=30, check_same_thread=False), qmark=True)

    @classmethod
    def postgres(cls, *, host: str, port: int, database: str, user: str, password: str) -> "Store":
        import pg8000.dbapi
        return cls(lambda: pg8000.dbapi.connect(host=host, port=port, database=database, user=user,
                                                password=password, timeout=30))

    def close(self) -> None:
        self.conn.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.qmark else sql

    @contextmanager
    def tx(self):
        with self._lock:
            with self._tx() as c:
                yield c

    @contextmanager
    def _tx(self):
        cur = self.conn.cursor()

        class C:
            def execute(_, sql, params=()):
                cur.execute(self._sql(sql), tuple(params))
                return cur

            def executemany(_, sql, rows):
                rows = [tuple(r) for r in rows]
                if rows:
                    cur.executemany(self._sql(sql), rows)
        try:
            yield C()
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    # --- ID map -------------------------------------------------------------------------------
    def rows(self, flow: str, source_ids: Iterable[str]) -> dict[str, MapRow]:
        return self._rows_by(flow, "source_id", source_ids)

    def all_live(self, flow: str) -> dict[str, str]:
        with self.tx() as c:
            cur = c.execute("SELECT source_id, target_id FROM id_map WHERE flow = %s AND state = 'done'", [flow])
            return dict(cur.fetchall())

    def rows_by_target(self, flow: str, target_ids: Iterable[str]) -> dict[str, MapRow]:
        return self._rows_by(flow, "target_id", target_ids)

    def _rows_by(self, flow: str, column: str, ids: Iterable[str]) -> dict[str, MapRow]:
        """ID-map rows whose `column` (source_id or target_id) is one of `ids`, keyed by it; asked
        500 at a time to stay under the databases' parameter limits."""
        assert column in ("source_id", "target_id")
        ids = list(ids)
        out: dict[str, MapRow] = {}
        with self.tx() as c:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                cur = c.execute(
                    "SELECT source_id, target_id, state, fingerprint, snapshot FROM id_map WHERE flow = %s AND "
                    f"{column} IN ({','.join(['%s'] * len(part))})", [flow, *part])
                for s, t, st, fp, snap in cur.fetchall():
                    out[s if column == "source_id" else t] = MapRow(s, t, st, fp, json.loads(snap) if snap else None)
        return out

    def by_target(self, flow: str, target_id: str) -> MapRow | None:
        with self.tx() as c:
            r = c.execute("SELECT source_id, target_id, state, fingerprint, snapshot FROM id_map "
                          "WHERE flow = %s AND target_id = %s", [flow, target_id]).fetchone()
        return MapRow(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None) if r else None

    UPSERT = ("INSERT INTO id_map (flow, source_id, target_id, state, fingerprint, snapshot, updated_at) VALUES {} "
              "ON CONFLICT (flow, source_id) DO UPDATE SET "
              "target_id = excluded.target_id, state = excluded.state, fingerprint = excluded.fingerprint, "
              "snapshot = excluded.snapshot, updated_at = excluded.updated_at")

    def put(self, c, flow: str, rows: Iterable[MapRow]) -> None:
        now = time.time()
        vals = [(flow, r.source_id, r.target_id, r.state, r.fingerprint,
                 json.dumps(r.snapshot, sort_keys=True) if r.snapshot is not None else None, now) for r in rows]
        # one statement per 200 rows: DB-API executemany is a round trip per row on pg8000
        for i in range(0, len(vals), 200):
            part = vals[i:i + 200]
            c.execute(self.UPSERT.format(",".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))),
                      [v for row in part for v in row])

    def forget(self, c, flow: str, source_ids: Iterable[str]) -> None:
        c.executemany("DELETE FROM id_map WHERE flow = %s AND source_id = %s", [(flow, s) for s in source_ids])

    # --- cursors ------------------------------------------------------------------------------
    def cursor(self, flow: str) -> str | None:
        with self.tx() as c:
            r = c.execute("SELECT value FROM cursors WHERE flow = %s", [flow]).fetchone()
        return r[0] if r else None

    def set_cursor(self, c, flow: str, value: str) -> None:
        c.execute("INSERT INTO cursors (flow, value, updated_at) VALUES (%s, %s, %s) ON CONFLICT (flow) "
                  "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at", [flow, value, time.time()])

    # --- dead letters -------------------------------------------------------------------------
    def dead_letter(self, c, flow: str, source_id: str, reason: str) -> None:
        now = time.time()
        c.execute("INSERT INTO dead_letters (flow, source_id, reason, attempts, first_at, last_at) "
                  "VALUES (%s, %s, %s, 1, %s, %s) ON CONFLICT (flow, source_id) DO UPDATE SET "
                  "reason = excluded.reason, attempts = dead_letters.attempts + 1, last_at = excluded.last_at",
                  [flow, source_id, reason[:1000], now, now])

    def resolve_dead(self, c, flow: str, source_ids: Iterable[str]) -> None:
        c.executemany("DELETE FROM dead_letters WHERE flow = %s AND source_id = %s", [(flow, s) for s in source_ids])

    def dead_letters(self, flow: str) -> dict[str, str]:
        with self.tx() as c:
            return dict(c.execute("SELECT source_id, reason FROM dead_letters WHERE flow = %s", [flow]).fetchall())

    # --- runs / health ------------------------------------------------------------------------
    def record_run(self, flow: str, *, ok: bool, error: str | None, oldest_pending: float | None,
                   processed: int) -> None:
        now = time.time()
        with self.tx() as c:
            c.execute("INSERT INTO runs (flow, last_attempt, last_success, last_error, oldest_pending, processed) "
                      "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (flow) DO UPDATE SET "
                      "last_attempt = excluded.last_attempt, "
                      "last_success = COALESCE(excluded.last_success, runs.last_success), "
                      "last_error = excluded.last_error, oldest_pending = excluded.oldest_pending, "
                      "processed = runs.processed + excluded.processed",
                      [flow, now, now if ok else None, error, oldest_pending, processed])

    def health(self) -> dict[str, dict]:
        with self.tx() as c:
            runs = c.execute("SELECT flow, last_attempt, last_success, last_error, oldest_pending, processed "
                             "FROM runs").fetchall()
            dead = dict(c.execute("SELECT flow, COUNT(*) FROM dead_letters GROUP BY flow").fetchall())
        return {f: {"last_attempt": a, "last_success": s, "last_error": e, "oldest_pending": p,
                    "processed": n, "dead_letters": int(dead.get(f, 0))} for f, a, s, e, p, n in runs}

    # --- inbox (pushed events: AMI) -----------------------------------------------------------
    def enqueue(self, flow: str, event_id: str, payload: dict) -> bool:
        """Store a pushed event once (its id decides); True if it was new."""
        with self.tx() as c:
            cur = c.execute("INSERT INTO inbox (flow, event_id, seq, payload, received_at) VALUES (%s, %s, %s, %s, %s) "
                            "ON CONFLICT (flow, event_id) DO NOTHING",
                            [flow, event_id, f"{time.time_ns():020d}", json.dumps(payload), time.time()])
            return cur.rowcount == 1

    def inbox(self, flow: str, after: str | None, limit: int) -> list[tuple[str, str, dict]]:
        with self.tx() as c:
            rows = c.execute("SELECT seq, event_id, payload FROM inbox WHERE flow = %s AND seq > %s "
                             "ORDER BY seq LIMIT %s", [flow, after or "", limit]).fetchall()
        return [(s, e, json.loads(p)) for s, e, p in rows]

    def replay(self, flow: str, event_id: str) -> bool:
        """Put a stored event (a dead letter's) at the end of its flow's inbox, to be tried again."""
        with self.tx() as c:
            cur = c.execute("UPDATE inbox SET seq = %s WHERE flow = %s AND event_id = %s",
                            [f"{time.time_ns():020d}", flow, event_id])
            return cur.rowcount == 1
