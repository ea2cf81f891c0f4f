"""The two-way flow, SuiteCRM ↔ Odoo customers, against the fakes of both documented APIs: every
scenario of the issue, and the written conflict rule per field (flows.CustomersFlow.rules)."""
import json
import threading

import pytest

from itstack_sync import flows as F
from itstack_sync.connectors.odoo import Odoo
from itstack_sync.connectors.suitecrm import SuiteCRM
from itstack_sync.engine import Engine
from sync import cases
from sync.fakes import FakeOdoo, FakeSuiteCRM, Server

NAME = F.CustomersFlow.name


def flow_for(urls):
    return F.CustomersFlow(SuiteCRM(cases.http(urls["crm"]), "sync", "s3cret-crm"),
                           Odoo(cases.http(urls["odoo"]), "itstack", "sync", "s3cret-odoo"))


class Pair:
    def __init__(self, store):
        self.store = store
        self.crm, self.odoo = FakeSuiteCRM(), FakeOdoo()
        self.servers = [Server(self.crm), Server(self.odoo)]
        self.urls = {"crm": self.servers[0].url, "odoo": self.servers[1].url}
        self.flow = flow_for(self.urls)

    def run(self):
        return Engine(self.store).run(self.flow)

    def account(self, i, **kw):
        attrs = {"name": f"Customer {i}", "email1": f"c{i}@example.org", "phone_office": f"+49 30 {i}",
                 "website": "", "billing_address_street": f"Street {i}", "billing_address_city": "Berlin",
                 "billing_address_postalcode": "10115", "annual_revenue": ""}
        attrs.update(kw)
        return self.crm.put("Accounts", attrs, id=f"acc-{i:05d}")

    def partner(self, i, **kw):
        vals = {"name": f"Partner {i}", "email": f"p{i}@example.org", "phone": False, "website": False,
                "street": f"Road {i}", "city": "Hamburg", "zip": "20095", "is_company": True, "total_invoiced": 0.0}
        vals.update(kw)
        return self.odoo.put("res.partner", vals, id=50000 + i)

    def partners(self):
        return {r["ref"]: r for r in self.odoo.models.get("res.partner", {}).values() if r.get("ref")}

    def close(self):
        for s in self.servers:
            s.close()


@pytest.fixture
def pair(store):
    p = Pair(store)
    yield p
    p.close()


def test_first_sync_both_ways_then_nothing(pair):
    for i in range(3):
        pair.account(i)
    pair.partner(7)
    r = pair.run()
    assert (r.error, r.created, r.dead) == (None, 4, 0)
    p = pair.partners()
    assert {k: v["name"] for k, v in p.items() if k.startswith("suitecrm:acc")} == \
        {f"suitecrm:acc-{i:05d}": f"Customer {i}" for i in range(3)}
    assert all(v["is_company"] for v in p.values())
    # Odoo's partner got a CRM account with the id the flow chose, and learned its ref
    a_id = pair.flow.a_id_for("50007")
    assert pair.crm.modules["Accounts"][a_id]["name"] == "Partner 7"
    assert pair.odoo.models["res.partner"][50007]["ref"] == f"suitecrm:{a_id}"
    writes = pair.odoo.rpc_writes, pair.crm.calls["POST"], pair.crm.calls["PATCH"]
    r = pair.run()
    assert (r.created, r.updated, r.deleted, r.dead) == (0, 0, 0, 0)
    assert (pair.odoo.rpc_writes, pair.crm.calls["POST"], pair.crm.calls["PATCH"]) == writes
    assert len(pair.crm.modules["Accounts"]) == 4 and len(pair.odoo.models["res.partner"]) == 4


def test_update_each_way(pair):
    pair.account(1)
    pair.run()
    pair.account(1, phone_office="+49 30 999")
    r = pair.run()
    assert r.updated == 1
    partner = pair.partners()["suitecrm:acc-00001"]
    assert partner["phone"] == "+49 30 999"
    pair.odoo.put("res.partner", {"city": "Potsdam", "total_invoiced": 1234.5}, id=partner["id"])
    r = pair.run()
    assert r.updated == 1
    acc = pair.crm.modules["Accounts"]["acc-00001"]
    assert (acc["billing_address_city"], acc["annual_revenue"]) == ("Potsdam", 1234.5)
    r = pair.run()
    assert r.updated == 0, "our own writes came back as changes"


def test_conflict_follows_the_rule_per_field(pair):
    pair.account(2)
    pair.run()
    pid = pair.partners()["suitecrm:acc-00002"]["id"]
    # both sides change name, phone, street and zip between two runs; CRM also edits "invoiced"
    pair.account(2, name="Customer Two (CRM)", phone_office="+1 crm", billing_address_street="CRM street",
                 billing_address_postalcode="11111", annual_revenue="99")
    pair.odoo.put("res.partner", {"name": "Customer Two (ERP)", "phone": "+1 erp", "street": "ERP street",
                                  "zip": "22222", "total_invoiced": 500.0}, id=pid)
    r = pair.run()
    assert r.error is None
    acc, par = pair.crm.modules["Accounts"]["acc-00002"], pair.odoo.models["res.partner"][pid]
    rules = F.CustomersFlow.rules
    assert rules["name"].winner == "a" and rules["street"].winner == "b"
    assert acc["name"] == par["name"] == "Customer Two (CRM)"      # CRM wins the name
    assert acc["phone_office"] == par["phone"] == "+1 crm"        # and contact data
    assert acc["billing_address_street"] == par["street"] == "ERP street"  # Odoo wins the address
    assert acc["billing_address_postalcode"] == par["zip"] == "22222"
    assert acc["annual_revenue"] == 500.0                          # invoiced: Odoo's, always
    assert {f for _, f, _ in pair.flow.conflicts} == {"name", "phone", "street", "zip"}
    assert pair.run().updated == 0


def test_field_changed_on_one_side_only_is_no_conflict(pair):
    pair.account(3)
    pair.run()
    pid = pair.partners()["suitecrm:acc-00003"]["id"]
    pair.account(3, name="Renamed in CRM")
    pair.odoo.put("res.partner", {"email": "billing@example.org"}, id=pid)
    pair.run()
    acc, par = pair.crm.modules["Accounts"]["acc-00003"], pair.odoo.models["res.partner"][pid]
    assert (acc["name"], acc["email1"]) == (par["name"], par["email"]) == ("Renamed in CRM", "billing@example.org")
    assert pair.flow.conflicts == []


def test_delete_in_crm_archives_in_odoo_and_archive_in_odoo_deletes_in_crm(pair):
    pair.account(4)
    pair.partner(8)
    pair.run()
    pid = pair.partners()["suitecrm:acc-00004"]["id"]
    del pair.crm.modules["Accounts"]["acc-00004"]
    r = pair.run()
    assert r.deleted == 1 and pair.odoo.models["res.partner"][pid]["active"] is False
    pair.odoo.put("res.partner", {"active": False}, id=50008)
    r = pair.run()
    assert r.deleted == 1 and pair.flow.a_id_for("50008") not in pair.crm.modules["Accounts"]
    assert pair.run().deleted == 0


def test_5xx_then_success(pair):
    for i in range(3):
        pair.account(i)
    cases.SLEEPS.clear()
    pair.odoo.fail(500, 1)
    pair.crm.fail(503, 1)
    r = pair.run()
    assert (r.error, r.created) == (None, 3) and len(cases.SLEEPS) == 2


def test_401_dead_letter_then_fixed(pair):
    for i in range(3):
        pair.account(i)
    pair.odoo.revoke()
    r = pair.run()
    assert r.error and len(pair.store.dead_letters(NAME)) == 1
    assert pair.odoo.models.get("res.partner", {}) == {}
    pair.odoo.revoked = False
    r = pair.run()
    assert r.error is None and len(pair.partners()) == 3 and pair.store.dead_letters(NAME) == {}


def test_bad_input_dead_letters_and_goes_on(pair):
    pair.account(0)
    pair.account(1, name="")                                   # fails validation
    pair.crm.put("Accounts", {"name": "No mail field", "phone_office": "1"}, id="acc-renamed")  # email1 renamed away
    pair.account(3)
    pair.odoo.garbage(1)
    r = pair.run()
    dead = pair.store.dead_letters(NAME)
    assert r.error is None
    assert "acc-00001" in dead and "acc-renamed" in dead and "renamed" in dead["acc-renamed"]
    assert {"suitecrm:acc-00000", "suitecrm:acc-00003"} <= set(pair.partners()) | {
        f"suitecrm:{k}" for k in dead}
    for reason in dead.values():
        assert "example.org" not in reason and "s3cret" not in reason


def test_killed_mid_batch_resumes(pair, child):
    n = 40
    for i in range(n):
        pair.account(i)
    seen = []
    killed = threading.Event()

    def on_create():
        seen.append(1)
        if len(seen) == 15:
            child.kill()
            killed.set()
    pair.odoo.on_create = on_create
    proc = child.start(json.dumps({"case": "customers", "urls": pair.urls}), pair.store.path)
    proc.wait(timeout=60)
    assert killed.is_set() and proc.returncode == -9, proc.stderr.read()[-2000:]
    pair.odoo.on_create = None
    r = pair.run()
    assert r.error is None
    assert len(pair.odoo.models["res.partner"]) == n == len(pair.partners())


def test_1000_records(pair):
    for i in range(1000):
        pair.account(i)
    r = pair.run()
    assert (r.error, r.created) == (None, 1000)
    assert len(pair.partners()) == 1000
    r = pair.run()
    assert r.created + r.updated + r.deleted == 0
