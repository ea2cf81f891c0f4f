"""The seed's ten business and telephony flows, each a small class: what it reads, what it writes,
and its mapping. docs/integrations.md is the operator's view of the same (trigger, fields,
conflict rule, failure behaviour)."""
from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator

from itstack_sync.connectors.dav import CalDAV, WebDAV, vevent
from itstack_sync.connectors.glpi import GLPI
from itstack_sync.connectors.odoo import Odoo
from itstack_sync.connectors.openkm import OpenKM
from itstack_sync.connectors.snipeit import SnipeIT
from itstack_sync.connectors.suitecrm import SuiteCRM
from itstack_sync.connectors.taiga import Taiga
from itstack_sync.connectors.zammad import Zammad
from itstack_sync.engine import Change, FieldRule, Flow, TwoWayFlow, require
from itstack_sync.errors import Invalid, Permanent
from itstack_sync.store import Store

NS = uuid.UUID("6f1c2a1e-2b9d-4c57-9a51-1d3f0e6a7c11")  # namespace of the ids this service chooses


def _iso(value, what: str) -> datetime:
    try:
        d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{what} is not a date") from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _num(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} is not a number") from None


# 1. SuiteCRM ↔ Odoo customers ------------------------------------------------------------------

CRM_FIELDS = {"name": "name", "email": "email1", "phone": "phone_office", "website": "website",
              "street": "billing_address_street", "city": "billing_address_city",
              "zip": "billing_address_postalcode", "invoiced": "annual_revenue"}
ODOO_FIELDS = {"name": "name", "email": "email", "phone": "phone", "website": "website", "street": "street",
               "city": "city", "zip": "zip", "invoiced": "total_invoiced"}


def _blank(v):
    return None if v in (False, "", None) else v


class CrmAccounts:
    """Side a of the customer flow: SuiteCRM Accounts in canonical fields."""

    def __init__(self, crm: SuiteCRM):
        self.crm = crm

    def canonical(self, attrs: dict) -> dict:
        require(attrs, *CRM_FIELDS.values())
        if not str(attrs.get("name") or "").strip():
            raise Invalid("account without a name")
        out = {f: _blank(attrs.get(src)) for f, src in CRM_FIELDS.items()}
        # nothing invoiced yet reads as 0 on both sides (Odoo's total_invoiced is never empty)
        out["invoiced"] = round(_num(out["invoiced"] or 0, "annual_revenue"), 2)
        return out

    def changes(self, cursor):
        for page in self.crm.pages("Accounts", cursor):
            out = []
            for r in page:
                try:
                    data = self.canonical(r)
                except Invalid as e:
                    data = _Bad(e.reason)
                out.append(Change(r["id"], data, str(r.get("date_modified") or cursor or "")))
            yield out

    def read(self, ids):
        out = {}
        for i in ids:
            r = self.crm.get("Accounts", i)
            out[i] = self.canonical(r) if r else None
        return out

    def existing(self, ids):
        return self.crm.ids("Accounts")

    def _attrs(self, fields):
        return {CRM_FIELDS[f]: ("" if v is None else v) for f, v in fields.items() if f in CRM_FIELDS}

    def create(self, fields, key):
        return self.crm.create("Accounts", self._attrs(fields), id=key)

    def update(self, id, fields):
        self.crm.update("Accounts", id, self._attrs(fields))

    def close(self, id):
        self.crm.delete("Accounts", id)


class _Bad(dict):
    """A record that failed mapping: the two-way engine dead-letters it with this reason."""

    def __init__(self, reason):
        super().__init__()
        self.reason = reason


class OdooPartners:
    """Side b: Odoo companies (res.partner, is_company) in canonical fields; archived = closed."""

    def __init__(self, odoo: Odoo, page_size: int = 500):
        self.odoo = odoo
        self.page_size = page_size

    def canonical(self, r: dict) -> dict:
        require(r, *ODOO_FIELDS.values())
        out = {f: _blank(r.get(src)) for f, src in ODOO_FIELDS.items()}
        out["invoiced"] = round(_num(r.get("total_invoiced") or 0, "total_invoiced"), 2)
        return out

    def changes(self, cursor):
        dom = [("is_company", "=", True)] + ([("write_date", ">=", cursor)] if cursor else [])
        fields = [*ODOO_FIELDS.values(), "active", "write_date"]
        offset = 0
        while True:
            rows = self.odoo.search_read("res.partner", dom, fields, order="write_date asc, id asc",
                                         limit=self.page_size, offset=offset, archived=True)
            if not rows:
                return
            out = []
            for r in rows:
                if r.get("active") is False:
                    data = None
                else:
                    try:
                        data = self.canonical(r)
                    except Invalid as e:
                        data = _Bad(e.reason)
                out.append(Change(str(r["id"]), data, str(r.get("write_date") or "")))
            yield out
            offset += len(rows)

    def read(self, ids):
        rows = self.odoo.read("res.partner", [int(i) for i in ids], [*ODOO_FIELDS.values(), "active"])
        got = {str(r["id"]): (self.canonical(r) if r.get("active", True) else None) for r in rows}
        return {i: got.get(str(i)) for i in ids}

    def find(self, keys):
        rows = self.odoo.search_read("res.partner", [("ref", "in", keys)], ["ref"], archived=True)
        return {r["ref"]: str(r["id"]) for r in rows}

    def _vals(self, fields):
        vals = {ODOO_FIELDS[f]: (False if v is None else v) for f, v in fields.items()
                if f in ODOO_FIELDS and f != "invoiced"}
        if "_key" in fields:
            vals["ref"] = fields["_key"]
        return vals

    def create(self, fields, key):
        return self.create_many([(key, fields)])[0]

    def create_many(self, items):
        """One JSON-RPC call for a page of new customers (Odoo creates a list in one transaction)."""
        ids = self.odoo.create("res.partner", [dict(self._vals(f), is_company=True, ref=k) for k, f in items])
        return [str(i) for i in ids]

    def update(self, id, fields):
        self.odoo.write("res.partner", [int(id)], self._vals(fields))

    def close(self, id):
        self.odoo.write("res.partner", [int(id)], {"active": False})


class CustomersFlow(TwoWayFlow):
    """SuiteCRM ↔ Odoo customers. The conflict rule per field (both sides changed it since the
    last sync): sales owns who the customer is and how to reach them, accounting owns where
    invoices go, and only Odoo knows what was invoiced."""
    name = "crm_odoo_customers"
    rules = {
        "name": FieldRule("a", why="the CRM is where sales create and rename customers"),
        "email": FieldRule("a", why="contact data is kept by sales in the CRM"),
        "phone": FieldRule("a", why="contact data is kept by sales in the CRM"),
        "website": FieldRule("a", why="contact data is kept by sales in the CRM"),
        "street": FieldRule("b", why="the invoicing address must match the invoices Odoo issued"),
        "city": FieldRule("b", why="the invoicing address must match the invoices Odoo issued"),
        "zip": FieldRule("b", why="the invoicing address must match the invoices Odoo issued"),
        "invoiced": FieldRule("b", owner="b", why="invoices live in Odoo; read-only in the CRM"),
    }

    def __init__(self, crm: SuiteCRM, odoo: Odoo):
        self.a = CrmAccounts(crm)
        self.b = OdooPartners(odoo)
        self.db = odoo.db

    def a_id_for(self, b_id):
        return str(uuid.uuid5(NS, f"odoo:{self.db}:res.partner:{b_id}"))

    def a_key(self, a_id):
        return f"suitecrm:{a_id}"



# 2. SuiteCRM meetings → Nextcloud calendar -----------------------------------------------------

class CrmModule:
    """A one-way source over a SuiteCRM module; deletions found by reconciling with the ID map."""

    def __init__(self, crm: SuiteCRM, module: str):
        self.crm = crm
        self.module = module

    def changes(self, cursor):
        for page in self.crm.pages(self.module, cursor):
            yield [Change(r["id"], r, str(r.get("date_modified") or cursor or "")) for r in page]


class MeetingsFlow(Flow):
    name = "crm_meetings_calendar"

    def __init__(self, crm: SuiteCRM, cal: CalDAV):
        self.crm = crm
        self.source = CrmModule(crm, "Meetings")
        self.target = _CalendarTarget(cal)

    def reconcile(self, keys):
        return self.crm.ids("Meetings")

    def transform(self, key, d):
        require(d, "name", "date_start")
        start = _iso(d["date_start"], "date_start")
        end = _iso(d["date_end"], "date_end") if d.get("date_end") else start + timedelta(
            hours=int(_num(d.get("duration_hours") or 0, "duration_hours")),
            minutes=int(_num(d.get("duration_minutes") or 0, "duration_minutes")))
        if end < start:
            raise Invalid("meeting ends before it starts")
        return {"uid": f"suitecrm-meeting-{key}", "summary": str(d["name"]), "start": start.isoformat(),
                "end": end.isoformat(), "description": str(d.get("description") or ""),
                "location": str(d.get("location") or "")}


class _CalendarTarget:
    def __init__(self, cal: CalDAV):
        self.cal = cal

    def _ics(self, p):
        return vevent(p["uid"], p["summary"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]),
                      p["description"], p["location"])

    def find(self, keys):
        out = {}
        for k in keys:
            uid = f"suitecrm-meeting-{k}"
            if self.cal.get(f"{uid}.ics") is not None:
                out[k] = uid
        return out

    def create(self, key, p):
        self.cal.put_event(p["uid"], self._ics(p))
        return p["uid"]

    def update(self, uid, p):
        self.cal.put_event(uid, self._ics(p))

    def delete(self, uid):
        self.cal.delete(f"{uid}.ics")


# 3. SuiteCRM documents → OpenKM ----------------------------------------------------------------

class CrmDocumentsFlow(Flow):
    """Each CRM document's current revision into /okm:root/CRM, tagged with the keyword
    `suitecrm-<id>` (the link back to the CRM record, and the correlation key)."""
    name = "crm_documents_openkm"

    def __init__(self, crm: SuiteCRM, okm: OpenKM, folder: str = "/okm:root/CRM"):
        self.crm = crm
        self.source = CrmModule(crm, "Documents")
        self.target = _OpenKMTarget(okm, folder)

    def reconcile(self, keys):
        return self.crm.ids("Documents")

    def transform(self, key, d):
        require(d, "document_name", "document_revision_id")
        rev = self.crm.get("DocumentRevisions", d["document_revision_id"])
        if not rev or "filecontents" not in rev:
            raise Invalid("document revision without filecontents")
        try:
            content = base64.b64decode(rev["filecontents"], validate=True)
        except ValueError:
            raise Invalid("filecontents is not base64") from None
        name = str(rev.get("filename") or d["document_name"]).replace("/", "_")
        return {"name": f"{key}-{name}",  # the CRM id in the name: one path per CRM document "sha256": hashlib.sha256(content).hexdigest(),
                "content": base64.b64encode(content).decode()}


class _OpenKMTarget:
    def __init__(self, okm: OpenKM, folder: str):
        self.okm = okm
        self.folder = folder
        self._made = False

    def find(self, keys):
        out = {}
        for k in keys:
            hits = self.okm.find_keyword(f"suitecrm-{k}")
            if hits:
                out[k] = hits[0]["uuid"]
        return out

    def create(self, key, p):
        path, body = f"{self.folder}/{p['name']}", base64.b64decode(p["content"])
        try:
            return self.okm.create(path, body, f"suitecrm-{key}")
        except Permanent as e:
            if "HTTP 404" not in e.reason:  # PathNotFoundException: the folder is not there yet
                raise
        self.okm.ensure_folder(self.folder)
        return self.okm.create(path, body, f"suitecrm-{key}")

    def update(self, uuid_, p):
        self.okm.update(uuid_, base64.b64decode(p["content"]))

    def delete(self, uuid_):
        self.okm.delete(uuid_)


# 4. Taiga timesheets → Odoo billable lines -----------------------------------------------------

class TaigaTasks:
    def __init__(self, taiga: Taiga, projects: dict[int, int], attribute: str):
        self.taiga = taiga
        self.projects = projects
        self.attribute = attribute

    def changes(self, cursor):
        for project, odoo_project in self.projects.items():
            attr = str(self.taiga.attribute_id(project, self.attribute))
            for page in self.taiga.tasks(project):
                out = []
                for t in sorted(page, key=lambda t: (str(t.get("modified_date")), t["id"])):
                    mod = str(t.get("modified_date") or "")
                    if cursor and mod < cursor:
                        continue
                    if not t.get("is_closed"):
                        out.append(Change(str(t["id"]), None, mod))  # reopened: the line goes
                        continue
                    values = self.taiga.attribute_values(t["id"])
                    out.append(Change(str(t["id"]), dict(t, hours=values.get(attr), odoo_project=odoo_project), mod))
                if out:
                    out.sort(key=lambda c: c.cursor)
                    yield out


class TimesheetsFlow(Flow):
    name = "taiga_timesheets_odoo"

    def __init__(self, taiga: Taiga, odoo: Odoo, projects: dict[int, int], attribute: str = "Hours"):
        self.source = TaigaTasks(taiga, projects, attribute)
        self.target = _OdooModelTarget(odoo, "account.analytic.line", "taiga")

    def transform(self, key, t):
        require(t, "subject", "finished_date", "hours")
        hours = _num(t["hours"], "hours")
        if not 0 < hours <= 24 * 31:
            raise Invalid("hours out of range")
        return {"name": str(t["subject"])[:200], "unit_amount": hours,
                "date": _iso(t["finished_date"], "finished_date").date().isoformat(),
                "project_id": int(t["odoo_project"])}


class _OdooModelTarget:
    """Odoo records carrying the flow's key in `ref` (res.partner, account.analytic.line)."""

    def __init__(self, odoo: Odoo, model: str, prefix: str):
        self.odoo = odoo
        self.model = model
        self.prefix = prefix

    def _ref(self, key):
        return f"{self.prefix}:{key}"

    def find(self, keys):
        refs = {self._ref(k): k for k in keys}
        rows = self.odoo.search_read(self.model, [("ref", "in", list(refs))], ["ref"], archived=True)
        return {refs[r["ref"]]: str(r["id"]) for r in rows if r.get("ref") in refs}

    def create_many(self, items):
        ids = self.odoo.create(self.model, [dict(p, ref=self._ref(k)) for k, p in items])
        return {k: str(i) for (k, _), i in zip(items, ids)}

    def create(self, key, p):
        return str(self.odoo.create(self.model, [dict(p, ref=self._ref(key))])[0])

    def update(self, id, p):
        self.odoo.write(self.model, [int(id)], p)

    def delete(self, id):
        self.odoo.call(self.model, "unlink", [[int(id)]])


# 5. Odoo approved purchase orders → Snipe-IT assets --------------------------------------------

class OdooPurchases:
    def __init__(self, odoo: Odoo, page_size: int = 200):
        self.odoo = odoo
        self.page_size = page_size

    def changes(self, cursor):
        dom = [("state", "in", ["purchase", "done", "cancel"])] + ([("write_date", ">=", cursor)] if cursor else [])
        offset = 0
        while True:
            pos = self.odoo.search_read("purchase.order", dom, ["name", "state", "order_line", "write_date"],
                                        order="write_date asc, id asc", limit=self.page_size, offset=offset)
            if not pos:
                return
            line_ids = [i for po in pos for i in po["order_line"]]
            lines = {l["id"]: l for l in self.odoo.read("purchase.order.line", line_ids,
                                                        ["name", "product_id", "product_qty", "price_unit"])} \
                if line_ids else {}
            out = []
            for po in pos:
                for lid in po["order_line"]:
                    line = lines.get(lid)
                    if line is None:
                        continue
                    qty = int(_num(line.get("product_qty", 0), "product_qty"))
                    for n in range(1, max(qty, 0) + 1):
                        key = f"PO{po['id']}-L{lid}-{n}"
                        data = None if po["state"] == "cancel" else dict(line, po_name=po["name"], unit=n)
                        out.append(Change(key, data, str(po["write_date"])))
            if out:
                yield out
            offset += len(pos)


class PurchasesFlow(Flow):
    name = "odoo_po_snipeit"

    def __init__(self, odoo: Odoo, snipe: SnipeIT, models: dict[int, int], status_id: int):
        self.source = OdooPurchases(odoo)
        self.target = _SnipeTarget(snipe)
        self.models = models
        self.status_id = status_id

    def transform(self, key, line):
        require(line, "product_id", "price_unit", "name")
        product = line["product_id"][0] if isinstance(line["product_id"], list) else line["product_id"]
        if product not in self.models:
            raise Invalid(f"no Snipe-IT model mapped for Odoo product {product}")
        return {"asset_tag": key, "name": str(line["name"])[:100], "model_id": self.models[product],
                "status_id": self.status_id, "order_number": line["po_name"],
                "purchase_cost": round(_num(line["price_unit"], "price_unit"), 2)}


class _SnipeTarget:
    def __init__(self, snipe: SnipeIT):
        self.snipe = snipe

    def find(self, keys):
        out = {}
        for k in keys:
            a = self.snipe.by_tag(k)
            if a:
                out[k] = str(a["id"])
        return out

    def create(self, key, p):
        return str(self.snipe.create(p))

    def update(self, id, p):
        self.snipe.update(int(id), p)

    def delete(self, id):
        self.snipe.delete(int(id))


# 6. Snipe-IT asset changes → GLPI CMDB ---------------------------------------------------------

class SnipeAssets:
    def __init__(self, snipe: SnipeIT):
        self.snipe = snipe

    def changes(self, cursor):
        for page in self.snipe.assets():
            out = []
            for a in page:
                mod = str((a.get("updated_at") or {}).get("datetime") or "")
                if cursor and mod < cursor:
                    continue
                out.append(Change(str(a["id"]), a, mod))
            if out:
                out.sort(key=lambda c: c.cursor)
                yield out


class AssetsFlow(Flow):
    name = "snipeit_glpi_assets"

    def __init__(self, snipe: SnipeIT, glpi: GLPI):
        self.snipe = snipe
        self.source = SnipeAssets(snipe)
        self.target = _GlpiComputers(glpi)

    def reconcile(self, keys):
        return {str(a["id"]) for page in self.snipe.assets() for a in page}

    def transform(self, key, a):
        require(a, "asset_tag", "name", "serial")
        if not a["asset_tag"]:
            raise Invalid("asset without a tag")
        return {"name": str(a["name"] or a["asset_tag"]), "serial": str(a["serial"] or ""),
                "otherserial": str(a["asset_tag"]), "comment": f"Snipe-IT asset {key}"}


class _GlpiComputers:
    def __init__(self, glpi: GLPI):
        self.glpi = glpi

    def find(self, keys):
        return {k: str(hits[0]["id"]) for k in keys
                if (hits := self.glpi.search("Computer", "comment", f"Snipe-IT asset {k}"))}

    def create(self, key, p):
        return str(self.glpi.create("Computer", p))

    def update(self, id, p):
        self.glpi.update("Computer", int(id), p)

    def delete(self, id):
        self.glpi.delete("Computer", int(id))


# 7. GLPI major incident → Zammad ticket --------------------------------------------------------

class GlpiIncidents:
    MAJOR = 5  # GLPI priorities: 5 very high, 6 major

    def __init__(self, glpi: GLPI):
        self.glpi = glpi

    def changes(self, cursor):
        for page in self.glpi.items("Ticket"):
            out = [Change(str(t["id"]), t, str(t.get("date_mod") or "")) for t in page
                   if t.get("type") == 1 and int(t.get("priority") or 0) >= self.MAJOR
                   and not (cursor and str(t.get("date_mod") or "") < cursor)]
            if out:
                out.sort(key=lambda c: c.cursor)
                yield out


class IncidentsFlow(Flow):
    name = "glpi_incidents_zammad"

    def __init__(self, glpi: GLPI, zammad: Zammad, group: str, customer: str):
        self.source = GlpiIncidents(glpi)
        self.target = _ZammadTickets(zammad, group, customer)

    def transform(self, key, t):
        require(t, "name", "content", "status")
        closed = int(_num(t["status"], "status")) in (5, 6)  # GLPI: 5 solved, 6 closed
        return {"title": f"[glpi#{key}] {t['name']}"[:250], "body": str(t["content"]),
                "state": "closed" if closed else "open", "priority": "3 high"}


class _ZammadTickets:
    def __init__(self, zammad: Zammad, group: str, customer: str):
        self.z = zammad
        self.group = group
        self.customer = customer

    def _marker(self, p_or_key):
        return p_or_key["title"].split("]", 1)[0] + "]"

    def find(self, keys):
        raise NotImplementedError  # replaced per flow below

    def create(self, key, p):
        return str(self.z.create({"title": p["title"], "group": self.group, "customer": self.customer,
                                  "state": p["state"], "priority": p["priority"],
                                  "article": {"subject": p["title"], "body": p["body"], "type": "note",
                                              "internal": True}}))

    def update(self, id, p):
        self.z.update(int(id), {"title": p["title"], "state": p["state"]})

    def delete(self, id):
        self.z.update(int(id), {"state": "closed"})


def _find_glpi(self, keys):
    return {k: str(i) for k in keys if (i := self.z.find(f"[glpi#{k}]"))}


_ZammadTickets.find = _find_glpi


# 8. OpenKM approved documents → Nextcloud folder -----------------------------------------------

class OpenKMFolder:
    def __init__(self, okm: OpenKM, folder: str):
        self.okm = okm
        self.folder = folder

    def changes(self, cursor):
        docs = sorted(self.okm.children(self.folder), key=lambda d: (str(d.get("lastModified")), d["uuid"]))
        out = [Change(d["uuid"], d, str(d.get("lastModified") or "")) for d in docs
               if not (cursor and str(d.get("lastModified") or "") < cursor)]
        for i in range(0, len(out), 100):
            yield out[i:i + 100]


class ApprovedDocumentsFlow(Flow):
    name = "openkm_approved_nextcloud"

    def __init__(self, okm: OpenKM, dav: WebDAV, source_folder: str = "/okm:root/Approved",
                 target_folder: str = "Approved"):
        self.okm = okm
        self.source = OpenKMFolder(okm, source_folder)
        self.target = _DavFiles(dav, target_folder)

    def reconcile(self, keys):
        return {d["uuid"] for d in self.okm.children(self.source.folder)}

    def transform(self, key, d):
        require(d, "path", "uuid")
        name = str(d["path"]).rsplit("/", 1)[-1]
        if not name or name in (".", ".."):
            raise Invalid("document without a file name")
        content = self.okm.content(key)
        return {"name": name, "sha256": hashlib.sha256(content).hexdigest(),
                "content": base64.b64encode(content).decode()}


class _DavFiles:
    def __init__(self, dav: WebDAV, folder: str):
        self.dav = dav
        self.folder = folder.strip("/")
        self._made = False

    def find(self, keys):
        return {}  # PUT to a name we choose is idempotent: a repeated create overwrites itself

    def create(self, key, p):
        if not self._made:
            self.dav.mkcols(self.folder)
            self._made = True
        path = f"{self.folder}/{p['name']}"
        self.dav.put(path, base64.b64decode(p["content"]))
        return path

    def update(self, path, p):
        new = f"{self.folder}/{p['name']}"
        self.dav.put(new, base64.b64decode(p["content"]))
        if new != path:
            self.dav.delete(path)

    def delete(self, path):
        self.dav.delete(path)


# 9./10. FreePBX calls (AMI) → SuiteCRM call log; missed calls → Zammad ------------------------

class Inbox:
    """Pushed events the AMI listener stored; the cursor is the inbox sequence."""

    def __init__(self, store: Store, flow: str, page: int = 200):
        self.store = store
        self.flow = flow
        self.page = page

    def changes(self, cursor):
        while True:
            rows = self.store.inbox(self.flow, cursor, self.page)
            if not rows:
                return
            yield [Change(event_id, payload, seq) for seq, event_id, payload in rows]
            cursor = rows[-1][0]


def _call_times(c):
    start = datetime.fromtimestamp(_num(c["started"], "started"), timezone.utc)
    secs = max(0, int(_num(c["ended"], "ended") - _num(c["started"], "started")))
    return start, secs


class CallLogFlow(Flow):
    name = "freepbx_calls_crm"

    def __init__(self, store: Store, crm: SuiteCRM):
        self.crm = crm
        self.source = Inbox(store, self.name)
        self.target = _CrmCalls(crm)

    def transform(self, key, c):
        require(c, "linkedid", "caller", "started", "ended", "answered", "inbound")
        start, secs = _call_times(c)
        contact = None
        if c["caller"]:
            for field in ("phone_work", "phone_mobile"):
                hits = self.crm.find_by("Contacts", field, str(c["caller"]))
                if hits:
                    contact = hits[0]["id"]
                    break
        p = {"name": f"{'Incoming' if c['inbound'] else 'Outgoing'} call {c['caller'] or 'unknown'}",
             "direction": "Inbound" if c["inbound"] else "Outbound",
             "status": "Held" if c["answered"] else "Not Held",
             "date_start": start.strftime("%Y-%m-%d %H:%M:%S"),
             "duration_hours": secs // 3600, "duration_minutes": (secs % 3600) // 60}
        if contact:
            p.update(parent_type="Contacts", parent_id=contact)
        return p


class _CrmCalls:
    """Calls get an id chosen from the Linkedid, so a replay finds the same record."""

    def __init__(self, crm: SuiteCRM):
        self.crm = crm

    @staticmethod
    def id_for(key):
        return str(uuid.uuid5(NS, f"ami-call:{key}"))

    def find(self, keys):
        return {k: self.id_for(k) for k in keys if self.crm.get("Calls", self.id_for(k))}

    def create(self, key, p):
        return self.crm.create("Calls", p, id=self.id_for(key))

    def update(self, id, p):
        self.crm.update("Calls", id, p)

    def delete(self, id):
        self.crm.delete("Calls", id)


class MissedCallsFlow(Flow):
    name = "freepbx_missed_zammad"

    def __init__(self, store: Store, zammad: Zammad, group: str, customer: str):
        self.source = Inbox(store, self.name)
        self.target = _ZammadCalls(zammad, group, customer)

    def transform(self, key, c):
        require(c, "linkedid", "caller", "started", "ended", "answered")
        start, _ = _call_times(c)
        return {"title": f"[call:{key}] Missed call from {c['caller'] or 'unknown'}",
                "body": f"Missed call at {start.isoformat()} to {c.get('dialed') or '?'}.",
                "state": "new", "priority": "2 normal"}


class _ZammadCalls(_ZammadTickets):
    def find(self, keys):
        return {k: str(i) for k in keys if (i := self.z.find(f"[call:{k}]"))}


def route_call(store: Store, call: dict) -> None:
    """The AMI listener's sink: every finished call to the call log, missed inbound ones to Zammad."""
    store.enqueue(CallLogFlow.name, call["linkedid"], call)
    if call.get("inbound") and not call.get("answered"):
        store.enqueue(MissedCallsFlow.name, call["linkedid"], call)
