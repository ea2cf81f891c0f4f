"""One harness per one-way flow, so every flow meets the same scenarios (tests/sync/test_flows.py).

A case starts its fakes (or real peers, tests/containers/test_sync_peers.py), builds its flow
against them, and speaks in record numbers: `add(i, v)` writes version v of source record i,
`remove(i)` deletes or closes it, `target()` reads what the target app holds, keyed by record
number, and `expect(i, v)` is what the target should hold for version v. `spec()`/`from_spec`
rebuild the flow in another process (the kill-mid-batch test) against the same servers.
"""
from __future__ import annotations

import base64
from itstack_sync import flows as F
from itstack_sync.connectors.glpi import GLPI
from itstack_sync.connectors.odoo import Odoo
from itstack_sync.connectors.openkm import OpenKM
from itstack_sync.connectors.snipeit import SnipeIT
from itstack_sync.connectors.suitecrm import SuiteCRM
from itstack_sync.connectors.taiga import Taiga
from itstack_sync.connectors.zammad import Zammad
from itstack_sync.http import Http
from itstack_sync.retry import Backoff

from sync.fakes import FakeGLPI, FakeOdoo, FakeOpenKM, FakeSnipeIT, FakeSuiteCRM, FakeTaiga, FakeZammad, Server

SLEEPS: list[float] = []


def backoff():
    # real delays would only slow the tests; the delays asked for are recorded instead
    return Backoff(attempts=4, base=0.01, sleep=SLEEPS.append)


def http(url):
    return Http(url, timeout=5, backoff=backoff())


class Case:
    name = ""
    updates = True       # a source record can change (event streams: a replay instead)
    deletes = True
    source_fake = target_fake = None

    def __init__(self, store):
        self.store = store
        self.servers = []

    def serve(self, fake):
        s = Server(fake)
        self.servers.append(s)
        return s.url

    def close(self):
        for s in self.servers:
            s.close()

    def spec(self) -> dict:
        return {"case": type(self).__name__, "urls": self.urls}

    @classmethod
    def client(cls, store, urls):
        """The flow alone, against servers another process runs."""
        return cls(store, urls).flow

    @property
    def store_path(self):
        return self.store.path

    def gone(self, target, i) -> bool:
        """Record i was deleted or closed at the source: what the target shows for it."""
        return i not in target

    def retry(self, i):
        """Make a dead-lettered record flow again: change it at the source (for events: replay)."""
        self.add(i, 0)

    def bad_keys_are_records(self) -> bool:
        return True

    rename_stops_flow = False


class DocumentsCase(Case):
    name = F.CrmDocumentsFlow.name

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.source_fake, self.target_fake = FakeSuiteCRM(), FakeOpenKM()
        self.urls = urls or {"crm": self.serve(self.source_fake), "okm": self.serve(self.target_fake)}
        self.flow = F.CrmDocumentsFlow(SuiteCRM(http(self.urls["crm"]), "sync", "s3cret-crm"),
                                       OpenKM(http(self.urls["okm"]), "sync", "s3cret-okm"))

    def key(self, i):
        return f"doc-{i:05d}"

    def add(self, i, v=0):
        rev = self.source_fake.put("DocumentRevisions", {"filename": f"offer-{i}.pdf",
                                                         "filecontents": base64.b64encode(f"offer {i} v{v}".encode()).decode()},
                                   id=f"rev-{i}-{v}")
        self.source_fake.put("Documents", {"document_name": f"Offer {i}", "document_revision_id": rev}, id=self.key(i))

    def rename(self, i):
        self.source_fake.modules["Documents"][self.key(i)].pop("document_revision_id")
        self.source_fake.put("Documents", {"revision": "x"}, id=self.key(i))

    def invalid(self, i):
        self.source_fake.put("Documents", {"document_name": f"Offer {i}", "document_revision_id": "rev-missing"},
                             id=self.key(i))

    def remove(self, i):
        del self.source_fake.modules["Documents"][self.key(i)]

    def index(self, key):
        return int(key.split("-")[1])

    def count(self):
        return len(self.target_fake.docs)

    def target(self):
        out = {}
        for u, d in self.target_fake.docs.items():
            for kw in d["keywords"]:
                out[int(kw.rsplit("-", 1)[1])] = self.target_fake.content[u].decode()
        return out

    def expect(self, i, v):
        return f"offer {i} v{v}"


class TimesheetsCase(Case):
    name = F.TimesheetsFlow.name

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.source_fake, self.target_fake = FakeTaiga(), FakeOdoo()
        self.urls = urls or {"taiga": self.serve(self.source_fake), "odoo": self.serve(self.target_fake)}
        self.flow = F.TimesheetsFlow(Taiga(http(self.urls["taiga"]), "sync", "s3cret-taiga"),
                                     Odoo(http(self.urls["odoo"]), "itstack", "sync", "s3cret-odoo"), {101: 5})

    def add(self, i, v=0):
        self.source_fake.put(i, {"subject": f"Task {i}", "is_closed": True, "finished_date": "2026-02-03T10:00:00Z"},
                             hours=str(1 + i % 7 + v))

    def rename(self, i):
        self.source_fake.tasks[i].pop("finished_date")
        self.source_fake.put(i, {"finish_date": "2026-02-03"})

    def invalid(self, i):
        self.source_fake.put(i, {"subject": f"Task {i}"}, hours="-3")

    def remove(self, i):
        self.source_fake.put(i, {"is_closed": False})  # reopened: not billable any more

    def index(self, key):
        return int(key)

    def count(self):
        return len(self.target_fake.models.get("account.analytic.line", {}))

    def target(self):
        return {int(r["ref"].split(":")[1]): r["unit_amount"]
                for r in self.target_fake.models.get("account.analytic.line", {}).values()}

    def expect(self, i, v):
        return float(1 + i % 7 + v)


class PurchasesCase(Case):
    name = F.PurchasesFlow.name

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.source_fake, self.target_fake = FakeOdoo(), FakeSnipeIT()
        self.urls = urls or {"odoo": self.serve(self.source_fake), "snipe": self.serve(self.target_fake)}
        self.flow = F.PurchasesFlow(Odoo(http(self.urls["odoo"]), "itstack", "sync", "s3cret-odoo"),
                                    SnipeIT(http(self.urls["snipe"]), "s3cret-snipe"), {42: 3}, 2)

    def add(self, i, v=0):
        o = self.source_fake
        line = o.put("purchase.order.line", {"name": f"Laptop {i}", "product_id": [42, "Laptop"], "product_qty": 1,
                                             "price_unit": 1000 + i + v}, id=100000 + i)
        o.put("purchase.order", {"name": f"P{i:05d}", "state": "purchase", "order_line": [line]}, id=i + 1)

    rename_stops_flow = True  # an Odoo model has no per-record fields: a renamed one fails every read

    def rename(self, i):
        self.source_fake.renamed["purchase.order.line"] = "price_unit"

    def unrename(self):
        self.source_fake.renamed.clear()

    def invalid(self, i):
        self.source_fake.put("purchase.order.line", {"product_id": [77, "Unmapped"]}, id=100000 + i)
        self.source_fake.put("purchase.order", {"name": f"P{i:05d}"}, id=i + 1)

    def remove(self, i):
        self.source_fake.put("purchase.order", {"state": "cancel"}, id=i + 1)

    def index(self, key):
        return int(key[2:].split("-")[0]) - 1

    def count(self):
        return len(self.target_fake.assets)

    def target(self):
        return {int(a["asset_tag"][2:].split("-")[0]) - 1: a["purchase_cost"] for a in self.target_fake.assets.values()}

    def expect(self, i, v):
        return float(1000 + i + v)


class AssetsCase(Case):
    name = F.AssetsFlow.name

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.source_fake, self.target_fake = FakeSnipeIT(), FakeGLPI()
        self.urls = urls or {"snipe": self.serve(self.source_fake), "glpi": self.serve(self.target_fake)}
        self.flow = F.AssetsFlow(SnipeIT(http(self.urls["snipe"]), "s3cret-snipe"),
                                 GLPI(http(self.urls["glpi"]), "s3cret-glpi-user", "s3cret-glpi-app"))

    def add(self, i, v=0):
        self.source_fake.put({"asset_tag": f"A{i:05d}", "name": f"pc-{i}-v{v}", "serial": f"SN{i}"}, id=i + 1)

    def rename(self, i):
        self.source_fake.assets[i + 1].pop("serial")
        self.source_fake.put({"serial_number": "x"}, id=i + 1)

    def invalid(self, i):
        self.source_fake.put({"asset_tag": ""}, id=i + 1)

    def remove(self, i):
        del self.source_fake.assets[i + 1]

    def index(self, key):
        return int(key) - 1

    def count(self):
        return len(self.target_fake.items.get("Computer", {}))

    def target(self):
        return {int(c["otherserial"][1:]): c["name"] for c in self.target_fake.items.get("Computer", {}).values()}

    def expect(self, i, v):
        return f"pc-{i}-v{v}"


class IncidentsCase(Case):
    name = F.IncidentsFlow.name

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.source_fake, self.target_fake = FakeGLPI(), FakeZammad()
        self.urls = urls or {"glpi": self.serve(self.source_fake), "zammad": self.serve(self.target_fake)}
        self.flow = F.IncidentsFlow(GLPI(http(self.urls["glpi"]), "s3cret-glpi-user", "s3cret-glpi-app"),
                                    Zammad(self.urls["zammad"], "s3cret-zammad", backoff=backoff()), "Ops", "ops@it-stack.lab")

    def add(self, i, v=0):
        self.source_fake.put("Ticket", {"name": f"Outage {i} v{v}", "content": "core switch down", "type": 1,
                                        "priority": 6, "status": 2}, id=i + 1)

    def rename(self, i):
        self.source_fake.items["Ticket"][i + 1].pop("content")
        self.source_fake.put("Ticket", {"description": "x"}, id=i + 1)

    def invalid(self, i):
        self.source_fake.put("Ticket", {"status": "solved-ish"}, id=i + 1)

    def remove(self, i):
        self.source_fake.put("Ticket", {"status": 6}, id=i + 1)  # closed in GLPI

    def index(self, key):
        return int(key) - 1

    def count(self):
        return len(self.target_fake.tickets)

    def target(self):
        return {int(t["title"].split("#")[1].split("]")[0]) - 1: (t["title"].split("] ")[1], t["state"])
                for t in self.target_fake.tickets.values()}

    def expect(self, i, v):
        return (f"Outage {i} v{v}", "open")

    def gone(self, target, i):
        return target[i][1] == "closed"  # a closed incident closes the ticket; nothing is deleted


def call(i, answered=False):
    return {"linkedid": f"1700000000.{i}", "caller": f"+4930555{i:04d}", "dialed": "200", "inbound": True,
            "answered": answered, "started": 1767225600 + i, "ended": 1767225600 + i + 95}


class CallsCase(Case):
    name = F.CallLogFlow.name
    updates = False
    deletes = False

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.target_fake = FakeSuiteCRM()
        self.source_fake = self.target_fake
        self.urls = urls or {"crm": self.serve(self.target_fake)}
        self.target_fake.put("Contacts", {"last_name": "Known", "phone_work": "+49305550003"}, id="contact-3")
        self.flow = F.CallLogFlow(store, SuiteCRM(http(self.urls["crm"]), "sync", "s3cret-crm"))

    def add(self, i, v=0):
        self.store.enqueue(self.name, call(i)["linkedid"], call(i))

    def rename(self, i):
        c = call(i)
        c.pop("caller")
        self.store.enqueue(self.name, c["linkedid"] + "-r", dict(c, linkedid=c["linkedid"] + "-r"))

    def invalid(self, i):
        c = dict(call(i), started="yesterday")
        self.store.enqueue(self.name, c["linkedid"] + "-v", dict(c, linkedid=c["linkedid"] + "-v"))

    def retry(self, i):
        assert self.store.replay(self.name, call(i)["linkedid"])

    def bad_keys_are_records(self):
        return False

    def index(self, key):
        return int(key.split(".")[1])

    def count(self):
        return len(self.target_fake.modules.get("Calls", {}))

    def target(self):
        out = {}
        for cid, c in self.target_fake.modules.get("Calls", {}).items():
            out[int(c["name"].rsplit("555", 1)[1])] = (c["status"], c.get("parent_id"))
        return out

    def expect(self, i, v):
        return ("Not Held", "contact-3" if i == 3 else None)


class MissedCase(Case):
    name = F.MissedCallsFlow.name
    updates = False
    deletes = False

    def __init__(self, store, urls=None):
        super().__init__(store)
        self.target_fake = FakeZammad()
        self.source_fake = self.target_fake
        self.urls = urls or {"zammad": self.serve(self.target_fake)}
        self.flow = F.MissedCallsFlow(store, Zammad(self.urls["zammad"], "s3cret-zammad", backoff=backoff()),
                                      "Support", "phone@it-stack.lab")

    def add(self, i, v=0):
        self.store.enqueue(self.name, call(i)["linkedid"], call(i))

    def rename(self, i):
        c = call(i)
        c.pop("started")
        self.store.enqueue(self.name, c["linkedid"] + "-r", dict(c, linkedid=c["linkedid"] + "-r"))

    def invalid(self, i):
        c = dict(call(i), ended="later")
        self.store.enqueue(self.name, c["linkedid"] + "-v", dict(c, linkedid=c["linkedid"] + "-v"))

    def retry(self, i):
        assert self.store.replay(self.name, call(i)["linkedid"])

    def bad_keys_are_records(self):
        return False

    def index(self, key):
        return int(key.split(".")[1])

    def count(self):
        return len(self.target_fake.tickets)

    def target(self):
        return {int(t["title"].split(".")[1].split("]")[0]): t["title"].split("] ")[1] for t in self.target_fake.tickets.values()}

    def expect(self, i, v):
        return f"Missed call from +4930555{i:04d}"


CASES = [DocumentsCase, TimesheetsCase, PurchasesCase, AssetsCase, IncidentsCase, CallsCase, MissedCase]
BY_NAME = {c.__name__: c for c in CASES}
