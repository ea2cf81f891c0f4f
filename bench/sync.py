"""The sync service's throughput per flow and its peak memory, against the local peers and fakes.

    .venv/bin/python bench/sync.py [--records 2000] [--memory-records 10000] [--dav-records 300]
                                   [--only crm_odoo_customers,memory]

Per flow: records per second of a first sync (every record created) and of a run that finds
nothing changed, with the state in SQLite (set ITSTACK_SYNC_BENCH_PG to a JSON DSN, e.g.
'{"host": "127.0.0.1", "port": 15432, "database": "bench", "user": "u", "password": "p"}', for
PostgreSQL). Peak memory: the SuiteCRM → Odoo customer flow over --memory-records records in a
process of its own (the fakes stay in this one), its maximum resident set from wait4.
Goals (issue 11): ≥ 500 records/s SuiteCRM → Odoo on 2 cores, ≤ 200 MiB. Figures only: no pass/fail.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this file is bench/sync.py: its own folder must not shadow the tests' `sync` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import requests  # noqa: E402

from itstack_sync import flows as F  # noqa: E402
from itstack_sync.connectors.dav import CalDAV, WebDAV  # noqa: E402
from itstack_sync.connectors.openkm import OpenKM  # noqa: E402
from itstack_sync.connectors.suitecrm import SuiteCRM  # noqa: E402
from itstack_sync.engine import Engine  # noqa: E402
from itstack_sync.store import Store  # noqa: E402
from sync import cases  # noqa: E402
from sync.fakes import FakeOpenKM, FakeSuiteCRM, Server  # noqa: E402
from sync.test_customers import Pair  # noqa: E402


def new_store(tmp: str, tag: str) -> Store:
    dsn = os.environ.get("ITSTACK_SYNC_BENCH_PG")
    if dsn:
        s = Store.postgres(**json.loads(dsn))
        with s.tx() as c:  # a clean slate per flow
            for t in ("id_map", "cursors", "dead_letters", "runs", "inbox"):
                c.execute(f"DELETE FROM {t}")
        s.path = dsn
        return s
    path = f"{tmp}/{tag}.db"
    s = Store.sqlite(path)
    s.path = path
    return s


def timed(store, flow):
    t = time.perf_counter()
    r = Engine(store).run(flow)
    assert r.error is None and r.dead == 0, (flow.name, r)
    return time.perf_counter() - t, r


def report(name, n, first, second):
    # the no-change run reads only what moved past the cursor, so its time is the figure, not a rate
    print(f"{name:38} {n:6d} records  first sync {n / first:6.0f} rec/s ({first:6.2f} s)   "
          f"no-change run {second:5.2f} s", flush=True)


def wsgi(app):
    from cheroot import wsgi as cw
    srv = cw.Server(("127.0.0.1", 0), app, numthreads=4)
    srv.prepare()
    threading.Thread(target=srv.serve, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.bind_addr[1]}"


def bench_customers(tmp, n):
    store = new_store(tmp, "customers")
    pair = Pair(store)
    try:
        for i in range(n):
            pair.account(i)
        a, r = timed(store, pair.flow)
        assert r.created == n
        b, _ = timed(store, pair.flow)
        report(F.CustomersFlow.name, n, a, b)
    finally:
        pair.close()
        store.close()


def bench_case(tmp, cls, n):
    store = new_store(tmp, cls.__name__)
    case = cls(store)
    try:
        for i in range(n):
            case.add(i)
        a, r = timed(store, case.flow)
        assert r.created == n, r
        b, _ = timed(store, case.flow)
        report(case.name, n, a, b)
    finally:
        case.close()
        store.close()


def bench_meetings(tmp, n):
    import radicale as rad
    from radicale import config
    Path(tmp, "users").write_text("sync:pw\n")
    conf = config.load()
    conf.update({"storage": {"filesystem_folder": f"{tmp}/collections"},
                 "auth": {"type": "htpasswd", "htpasswd_filename": f"{tmp}/users", "htpasswd_encryption": "plain"},
                 "logging": {"level": "error"}}, "bench", privileged=True)
    srv, url = wsgi(rad.Application(conf))
    requests.request("MKCALENDAR", f"{url}/sync/crm/", auth=("sync", "pw"), timeout=10).raise_for_status()
    crm = FakeSuiteCRM()
    crm_srv = Server(crm)
    store = new_store(tmp, "meetings")
    try:
        for i in range(n):
            crm.put("Meetings", {"name": f"Meeting {i}", "date_start": "2026-03-01T09:00:00+00:00",
                                 "date_end": "2026-03-01T10:00:00+00:00", "description": "", "location": ""}, id=f"m-{i}")
        flow = F.MeetingsFlow(SuiteCRM(cases.http(crm_srv.url), "sync", "s3cret-crm"),
                              CalDAV(cases.http(url), "sync", "pw", "/sync/crm"))
        a, _ = timed(store, flow)
        b, _ = timed(store, flow)
        report(flow.name + " (Radicale)", n, a, b)
    finally:
        crm_srv.close()
        srv.stop()
        store.close()


def bench_approved(tmp, n):
    from wsgidav.wsgidav_app import WsgiDAVApp
    Path(tmp, "files").mkdir()
    srv, url = wsgi(WsgiDAVApp({"provider_mapping": {"/files": f"{tmp}/files"},
                                "http_authenticator": {"accept_basic": True, "accept_digest": False,
                                                       "default_to_digest": False},
                                "simple_dc": {"user_mapping": {"*": {"sync": {"password": "pw"}}}},
                                "verbose": 0, "logging": {"enable": False}}))
    okm = FakeOpenKM()
    okm.folders.add("/okm:root/Approved")
    okm_srv = Server(okm)
    store = new_store(tmp, "approved")
    try:
        for i in range(n):
            okm.add(f"/okm:root/Approved/doc {i}.pdf", b"x" * 2048)
        flow = F.ApprovedDocumentsFlow(OpenKM(cases.http(okm_srv.url), "sync", "s3cret-okm"),
                                       WebDAV(cases.http(url), "sync", "pw", "/files"))
        a, _ = timed(store, flow)
        b, _ = timed(store, flow)
        report(flow.name + " (WsgiDAV)", n, a, b)
    finally:
        okm_srv.close()
        srv.stop()
        store.close()


def peak_memory(tmp, n):
    store = new_store(tmp, "memory")
    pair = Pair(store)
    try:
        for i in range(n):
            pair.account(i)
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests/sync/run_flow.py"),
                                 json.dumps({"case": "customers", "urls": pair.urls}), store.path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t
        out = proc.stdout.read()
        assert status == 0 and json.loads(out)["created"] == n, (status, out, proc.stderr.read()[-2000:])
        print(f"peak memory, {F.CustomersFlow.name}, {n} records in its own process: "
              f"{usage.ru_maxrss / 1024:.0f} MiB (max RSS; {n / took:.0f} rec/s including interpreter start)")
    finally:
        pair.close()
        store.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--memory-records", type=int, default=10000)
    ap.add_argument("--dav-records", type=int, default=300,
                    help="records for the Radicale and WsgiDAV flows (Radicale's per-PUT cost grows with the collection)")
    ap.add_argument("--only", default="", help="comma-separated flow names (default: all)")
    args = ap.parse_args()
    want = lambda name: not args.only or name in args.only.split(",")
    print(f"state: {'PostgreSQL' if os.environ.get('ITSTACK_SYNC_BENCH_PG') else 'SQLite'}; "
          f"apps: fakes of their documented APIs on loopback unless named; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        if want(F.CustomersFlow.name):
            bench_customers(tmp, args.records)
        for cls in cases.CASES:
            if want(cls.name):
                bench_case(tmp, cls, args.records)
        if want(F.MeetingsFlow.name):
            bench_meetings(tmp, args.dav_records)
        if want(F.ApprovedDocumentsFlow.name):
            bench_approved(tmp, args.dav_records)
        if want("memory"):
            peak_memory(tmp, args.memory_records)


if __name__ == "__main__":
    main()
