"""The service's entry point: `python -m itstack_sync`.

Configuration comes from the environment; every credential from a file named by a *_FILE variable
(Docker secrets or a mounted file, never a plain env value, so `docker inspect` shows none).
Schedules run here: each flow every ITSTACK_SYNC_INTERVAL_<FLOW> seconds (default below), at once
when an app's webhook hits /trigger/<flow>. The AMI listener runs beside them.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

from itstack_sync import flows as F
from itstack_sync.connectors.ami import AMI, CallTracker
from itstack_sync.connectors.dav import CalDAV, WebDAV
from itstack_sync.connectors.glpi import GLPI
from itstack_sync.connectors.odoo import Odoo
from itstack_sync.connectors.openkm import OpenKM
from itstack_sync.connectors.snipeit import SnipeIT
from itstack_sync.connectors.suitecrm import SuiteCRM
from itstack_sync.connectors.taiga import Taiga
from itstack_sync.connectors.zammad import Zammad
from itstack_sync.engine import Engine
from itstack_sync.health import HealthServer
from itstack_sync.http import Http
from itstack_sync.store import Store

DEFAULT_INTERVALS = {  # seconds; the daily batch is daily
    F.CustomersFlow.name: 300, F.MeetingsFlow.name: 120, F.CrmDocumentsFlow.name: 300,
    F.TimesheetsFlow.name: 86400, F.PurchasesFlow.name: 300, F.AssetsFlow.name: 300,
    F.IncidentsFlow.name: 60, F.ApprovedDocumentsFlow.name: 300, F.CallLogFlow.name: 10,
    F.MissedCallsFlow.name: 10,
}


def secret(name: str) -> str:
    return Path(os.environ[f"{name}_FILE"]).read_text().strip()


def env(name: str, default: str | None = None) -> str:
    v = os.environ.get(name, default)
    if v is None:
        raise SystemExit(f"itstack-sync: {name} is not set")
    return v


def build(store: Store) -> list:
    """The flows whose apps are configured (ITSTACK_SYNC_<APP>_URL set)."""
    has = lambda app: bool(os.environ.get(f"ITSTACK_SYNC_{app}_URL"))
    ca = os.environ.get("ITSTACK_SYNC_CA_FILE") or True
    http = lambda app: Http(env(f"ITSTACK_SYNC_{app}_URL"), verify=ca)
    crm = SuiteCRM(http("SUITECRM"), env("ITSTACK_SYNC_SUITECRM_CLIENT_ID"), secret("ITSTACK_SYNC_SUITECRM_SECRET")) \
        if has("SUITECRM") else None
    odoo = Odoo(http("ODOO"), env("ITSTACK_SYNC_ODOO_DB"), env("ITSTACK_SYNC_ODOO_USER"),
                secret("ITSTACK_SYNC_ODOO_PASSWORD")) if has("ODOO") else None
    out = []
    if crm and odoo:
        out.append(F.CustomersFlow(crm, odoo))
    if crm and has("NEXTCLOUD"):
        nc_user = env("ITSTACK_SYNC_NEXTCLOUD_USER")
        base = env("ITSTACK_SYNC_NEXTCLOUD_URL")
        out.append(F.MeetingsFlow(crm, CalDAV(Http(base, verify=ca), nc_user, secret("ITSTACK_SYNC_NEXTCLOUD_PASSWORD"),
                                               f"/remote.php/dav/calendars/{nc_user}/{env('ITSTACK_SYNC_CALENDAR', 'crm')}")))
    okm = OpenKM(http("OPENKM"), env("ITSTACK_SYNC_OPENKM_USER"), secret("ITSTACK_SYNC_OPENKM_PASSWORD")) \
        if has("OPENKM") else None
    if crm and okm:
        out.append(F.CrmDocumentsFlow(crm, okm))
    if has("TAIGA") and odoo:
        out.append(F.TimesheetsFlow(Taiga(http("TAIGA"), env("ITSTACK_SYNC_TAIGA_USER"), secret("ITSTACK_SYNC_TAIGA_PASSWORD")),
                                    odoo, {int(k): v for k, v in json.loads(env("ITSTACK_SYNC_TAIGA_PROJECTS", "{}")).items()}))
    snipe = SnipeIT(http("SNIPEIT"), secret("ITSTACK_SYNC_SNIPEIT_TOKEN")) if has("SNIPEIT") else None
    if odoo and snipe:
        out.append(F.PurchasesFlow(odoo, snipe, {int(k): v for k, v in json.loads(env("ITSTACK_SYNC_SNIPEIT_MODELS", "{}")).items()},
                                   int(env("ITSTACK_SYNC_SNIPEIT_STATUS_ID", "2"))))
    glpi = GLPI(http("GLPI"), secret("ITSTACK_SYNC_GLPI_USER_TOKEN"), secret("ITSTACK_SYNC_GLPI_APP_TOKEN")) \
        if has("GLPI") else None
    if snipe and glpi:
        out.append(F.AssetsFlow(snipe, glpi))
    zammad = Zammad(env("ITSTACK_SYNC_ZAMMAD_URL"), secret("ITSTACK_SYNC_ZAMMAD_TOKEN")) if has("ZAMMAD") else None
    group, customer = env("ITSTACK_SYNC_ZAMMAD_GROUP", "Users"), env("ITSTACK_SYNC_ZAMMAD_CUSTOMER", "")
    if glpi and zammad:
        out.append(F.IncidentsFlow(glpi, zammad, group, customer))
    if okm and has("NEXTCLOUD"):
        nc_user = env("ITSTACK_SYNC_NEXTCLOUD_USER")
        out.append(F.ApprovedDocumentsFlow(okm, WebDAV(http("NEXTCLOUD"), nc_user, secret("ITSTACK_SYNC_NEXTCLOUD_PASSWORD"),
                                                       f"/remote.php/dav/files/{nc_user}")))
    if os.environ.get("ITSTACK_SYNC_AMI_HOST"):
        if crm:
            out.append(F.CallLogFlow(store, crm))
        if zammad:
            out.append(F.MissedCallsFlow(store, zammad, group, customer))
    return out


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # urllib3 logs full URLs (query strings can hold ids and search terms) at DEBUG; keep it quiet
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    store = Store.postgres(host=env("ITSTACK_SYNC_DB_HOST"), port=int(env("ITSTACK_SYNC_DB_PORT", "5432")),
                           database=env("ITSTACK_SYNC_DB_NAME", "itstack_sync"), user=env("ITSTACK_SYNC_DB_USER"),
                           password=secret("ITSTACK_SYNC_DB_PASSWORD"))
    flows = {f.name: f for f in build(store)}
    wake: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    token = secret("ITSTACK_SYNC_TRIGGER_TOKEN") if os.environ.get("ITSTACK_SYNC_TRIGGER_TOKEN_FILE") else None
    server = HealthServer(store.health, list(flows), wake.put, token,
                          port=int(env("ITSTACK_SYNC_PORT", "8080"))).start()
    ami = None
    if os.environ.get("ITSTACK_SYNC_AMI_HOST"):
        # its own store connection: the listener thread writes while the scheduler runs flows
        ami_store = Store.postgres(host=env("ITSTACK_SYNC_DB_HOST"), port=int(env("ITSTACK_SYNC_DB_PORT", "5432")),
                                   database=env("ITSTACK_SYNC_DB_NAME", "itstack_sync"),
                                   user=env("ITSTACK_SYNC_DB_USER"), password=secret("ITSTACK_SYNC_DB_PASSWORD"))
        ami = AMI(env("ITSTACK_SYNC_AMI_HOST"), int(env("ITSTACK_SYNC_AMI_PORT", "5038")), env("ITSTACK_SYNC_AMI_USER"),
                  secret("ITSTACK_SYNC_AMI_SECRET"), CallTracker(lambda c: F.route_call(ami_store, c)))
        ami.connect()
    engine = Engine(store)
    due = {n: 0.0 for n in flows}
    while not stop.is_set():
        now = time.time()
        for n, f in flows.items():
            if now >= due[n]:
                engine.run(f)
                due[n] = time.time() + int(os.environ.get(f"ITSTACK_SYNC_INTERVAL_{n.upper()}", DEFAULT_INTERVALS[n]))
        try:
            due[wake.get(timeout=1)] = 0.0
        except queue.Empty:
            pass
    server.stop()
    if ami:
        ami.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
