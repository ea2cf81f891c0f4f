"""Fakes of the apps that cannot run on this machine, each following its documented API (routes,
auth, status codes, pagination) as the connector module it serves cites it. They are fakes: only
what the flows use, in memory, on a real loopback HTTP server, so the connectors do real HTTP.

Every fake can be told to answer the next calls with a status (`fail(503, 2)`), with garbage
(`garbage(1)`), to refuse credentials (`revoke()`), and calls `on_create` after each record it
creates (the kill-mid-batch tests kill the client there).
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        self.status, self.body, self.headers = status, body, headers or {}


class Clock:
    """Modification times that always move forward, one second per write."""

    def __init__(self):
        self.t = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.lock = threading.Lock()

    def tick(self) -> datetime:
        with self.lock:
            self.t += timedelta(seconds=1)
            return self.t


class FakeApp:
    def __init__(self):
        self.failures: list = []
        self.calls = Counter()
        self.lock = threading.RLock()
        self.on_create = None
        self.revoked = False
        self.clock = Clock()

    def fail(self, status: int, times: int = 1):
        self.failures += [status] * times

    def garbage(self, times: int = 1):
        self.failures += ["garbage"] * times

    def revoke(self):
        self.revoked = True

    def created(self):
        if self.on_create:
            self.on_create()

    def dispatch(self, method, path, query, headers, body):
        with self.lock:
            self.calls[method] += 1
            if self.failures:
                f = self.failures.pop(0)
                if f == "garbage":
                    return 200, {"Content-Type": "application/json"}, b"<html>proxy error page</html>"
                return f, {"Content-Type": "application/json"}, b'{"error": "injected"}'
            try:
                status, out, hdrs = self.handle(method, path, query, headers, body)
            except Reply as r:
                status, out, hdrs = r.status, r.body, r.headers
        if isinstance(out, (dict, list)):
            hdrs = dict({"Content-Type": "application/json"}, **hdrs)
            out = json.dumps(out).encode()
        return status, hdrs, out or b""


class Server:
    """A fake (or any `dispatch`er) on 127.0.0.1, HTTP/1.1 keep-alive, stopped by `close()`."""

    def __init__(self, app):
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

            def log_message(self, *a):
                pass

            def _do(self):
                u = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                q = {k: v[0] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
                status, hdrs, out = app.dispatch(self.command, u.path, q, self.headers, body)
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *a: None  # a client killed mid-request (on purpose) is no error
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _json(body):
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise Reply(400, {"error": "bad json"})


def _multipart(headers, body) -> dict:
    m = re.search(r'boundary="?([^";]+)', headers.get("Content-Type", ""))
    if not m:
        raise Reply(400, {"error": "not multipart"})
    out = {}
    for part in body.split(b"--" + m.group(1).encode())[1:-1]:
        head, _, data = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head).group(1).decode()
        out[name] = data
    return out


# --- SuiteCRM 8 V8 JSON:API ------------------------------------------------------------------

class FakeSuiteCRM(FakeApp):
    """SuiteCRM 8 V8 API under /legacy/Api: OAuth2 client_credentials, JSON:API documents,
    filter[field][gte|eq], sort, page[number]/page[size] with meta.total-pages, client ids kept,
    400 on a missing required field, 404 on an unknown id, 401 on a bad or revoked token."""
    REQUIRED = {"Accounts": ["name"], "Calls": ["name"], "Meetings": ["name"], "Documents": ["document_name"]}

    def __init__(self, client_id="sync", secret="s3cret-crm"):
        super().__init__()
        self.client_id, self.secret = client_id, secret
        self.modules: dict[str, dict[str, dict]] = {}
        self.tokens = set()

    def put(self, module, attrs, id=None, touch=True):
        id = id or str(uuid.uuid4())
        rec = self.modules.setdefault(module, {}).setdefault(id, {})
        rec.update(attrs)
        if touch:
            rec["date_modified"] = self.clock.tick().isoformat()
        return id

    def handle(self, method, path, q, headers, body):
        if path == "/legacy/Api/access_token" and method == "POST":
            b = _json(body)
            if self.revoked or b.get("client_id") != self.client_id or b.get("client_secret") != self.secret:
                raise Reply(401, {"error": "invalid_client"})
            tok = uuid.uuid4().hex
            self.tokens.add(tok)
            return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": tok}, {}
        auth = headers.get("Authorization", "")
        if self.revoked or auth.removeprefix("Bearer ") not in self.tokens:
            raise Reply(401, {"errors": {"status": 401, "title": "unauthorized"}})
        m = re.fullmatch(r"/legacy/Api/V8/module(?:/(\w+)(?:/([\w-]+))?)?", path)
        if not m:
            raise Reply(404, {"errors": {"title": "no route"}})
        module, id = m.groups()
        if method == "GET" and module and id:
            rec = self.modules.get(module, {}).get(id)
            if rec is None:
                raise Reply(404, {"errors": {"title": "not found"}})
            return 200, {"data": {"type": module, "id": id, "attributes": rec}}, {}
        if method == "GET" and module:
            rows = list(self.modules.get(module, {}).items())
            for k, v in q.items():
                f = re.fullmatch(r"filter\[(\w+)\]\[(gte|eq)\]", k)
                if f:
                    field, op = f.groups()
                    rows = [(i, r) for i, r in rows if (str(r.get(field, "")) >= v if op == "gte" else str(r.get(field)) == v)]
            if q.get("sort"):
                key = q["sort"].lstrip("-")
                rows.sort(key=lambda x: (str(x[1].get(key, "")), x[0]), reverse=q["sort"].startswith("-"))
            size = int(q.get("page[size]", 20))
            num = int(q.get("page[number]", 1))
            pages = max(1, -(-len(rows) // size))
            part = rows[(num - 1) * size: num * size]
            fields = q.get(f"fields[{module}]")
            data = [{"type": module, "id": i, "attributes": ({f: r.get(f) for f in fields.split(",") if f != "id"}
                                                            if fields else r)} for i, r in part]
            return 200, {"meta": {"total-pages": pages}, "data": data}, {}
        if method in ("POST", "PATCH") and not module:
            d = (_json(body) or {}).get("data") or {}
            mod, attrs = d.get("type"), d.get("attributes") or {}
            if method == "POST":
                missing = [f for f in self.REQUIRED.get(mod, []) if not attrs.get(f)]
                if missing:
                    raise Reply(400, {"errors": {"title": "missing " + ",".join(missing)}})
                if d.get("id") and d["id"] in self.modules.get(mod, {}):
                    raise Reply(409, {"errors": {"title": "exists"}})
                new = self.put(mod, attrs, d.get("id"))
                self.created()
                return 201, {"data": {"type": mod, "id": new, "attributes": self.modules[mod][new]}}, {}
            if d.get("id") not in self.modules.get(mod, {}):
                raise Reply(404, {"errors": {"title": "not found"}})
            self.put(mod, attrs, d["id"])
            return 200, {"data": {"type": mod, "id": d["id"], "attributes": self.modules[mod][d["id"]]}}, {}
        if method == "DELETE" and module and id:
            if self.modules.get(module, {}).pop(id, None) is None:
                raise Reply(404, {"errors": {"title": "not found"}})
            return 200, {"meta": {"message": "deleted"}}, {}
        raise Reply(405, {"errors": {"title": "method"}})


# --- Odoo 18 JSON-RPC ------------------------------------------------------------------------

class FakeOdoo(FakeApp):
    """Odoo 18 /jsonrpc: common.authenticate, object.execute_kw with search_read (domain with =,
    in, >=, archived rows hidden unless active_test is False, order, limit, offset), read, create
    (a list → ids, all or nothing), write, unlink. Errors as HTTP 200 + `error` with data.name, as
    Odoo's JSON-RPC dispatcher answers them."""
    REQUIRED = {"res.partner": ["name"], "account.analytic.line": ["name", "project_id"]}

    def __init__(self, db="itstack", login="sync", password="s3cret-odoo"):
        super().__init__()
        self.db, self.login, self.password = db, login, password
        self.models: dict[str, dict[int, dict]] = {}
        self.ids = itertools.count(1)
        self.rpc_writes = 0
        self.renamed: dict[str, str] = {}  # model → a field that no longer exists under its name

    def stamp(self):
        return self.clock.tick().strftime("%Y-%m-%d %H:%M:%S")

    def put(self, model, vals, id=None):
        id = id or next(self.ids)
        rec = self.models.setdefault(model, {}).setdefault(id, {"id": id, "active": True})
        rec.update(vals)
        rec["write_date"] = self.stamp()
        return id

    def _err(self, name):
        raise Reply(200, {"jsonrpc": "2.0", "id": None, "error": {"code": 200, "message": "Odoo Server Error",
                                                                   "data": {"name": name, "message": "refused"}}})

    @staticmethod
    def _match(rec, domain):
        for f, op, v in domain:
            x = rec.get(f)
            if op == "=" and x != v or op == "in" and x not in v or op == ">=" and not (x is not None and str(x) >= str(v)):
                return False
        return True

    def handle(self, method, path, q, headers, body):
        if path != "/jsonrpc" or method != "POST":
            raise Reply(404, b"")
        req = _json(body)
        p = req.get("params") or {}
        svc, meth, args = p.get("service"), p.get("method"), p.get("args") or []
        ok = lambda res: (200, {"jsonrpc": "2.0", "id": req.get("id"), "result": res}, {})
        if svc == "common" and meth == "authenticate":
            db, login, pw = args[:3]
            return ok(7 if (not self.revoked and (db, login, pw) == (self.db, self.login, self.password)) else False)
        if svc != "object" or meth != "execute_kw":
            self._err("odoo.exceptions.UserError")
        db, uid, pw, model, m, margs = args[:6]
        kw = args[6] if len(args) > 6 else {}
        if self.revoked or (db, uid, pw) != (self.db, 7, self.password):
            self._err("odoo.exceptions.AccessDenied")
        table = self.models.setdefault(model, {})
        if m in ("create", "write", "unlink"):
            self.rpc_writes += 1
        if self.renamed.get(model) in (kw.get("fields") or []):
            self._err("builtins.ValueError")  # Odoo: "Invalid field 'x' on model 'y'"
        show = lambda r: r.get("active", True) or (kw.get("context") or {}).get("active_test") is False
        pick = lambda r, fields: {f: r.get(f, False) for f in ["id", *fields]} if fields else dict(r)
        if m == "search_read":
            rows = [r for r in table.values() if show(r) and self._match(r, margs[0])]
            for part in reversed([s.strip().split() for s in kw.get("order", "id").split(",")]):
                rows.sort(key=lambda r: str(r.get(part[0])) if part[0] != "id" else r["id"],
                          reverse=len(part) > 1 and part[1] == "desc")
            off, lim = kw.get("offset", 0), kw.get("limit") or None
            return ok([pick(r, kw.get("fields")) for r in rows[off: off + lim if lim else None]])
        if m == "read":
            return ok([pick(table[i], kw.get("fields")) for i in margs[0] if i in table])
        if m == "create":
            vals = margs[0] if isinstance(margs[0], list) else [margs[0]]
            for v in vals:
                if any(not v.get(f) for f in self.REQUIRED.get(model, [])):
                    self._err("odoo.exceptions.ValidationError")
            out = []
            for v in vals:
                out.append(self.put(model, v))
                self.created()
            return ok(out)
        if m == "write":
            ids, vals = margs
            if any(i not in table for i in ids):
                self._err("odoo.exceptions.MissingError")
            if any(f in vals and not vals[f] for f in self.REQUIRED.get(model, [])):
                self._err("odoo.exceptions.ValidationError")
            for i in ids:
                self.put(model, vals, i)
            return ok(True)
        if m == "unlink":
            for i in margs[0]:
                table.pop(i, None)
            return ok(True)
        self._err("builtins.AttributeError")


# --- Taiga 6 ---------------------------------------------------------------------------------

class FakeTaiga(FakeApp):
    """Taiga 6 /api/v1: POST /auth (normal login) → auth_token; GET /tasks?project&page (30 per
    page, x-pagination-next), /task-custom-attributes?project, /tasks/custom-attributes-values/{id}."""
    PAGE = 30

    def __init__(self, username="sync", password="s3cret-taiga"):
        super().__init__()
        self.username, self.password = username, password
        self.tasks: dict[int, dict] = {}
        self.values: dict[int, dict] = {}
        self.attributes = {101: [{"id": 9, "name": "Hours", "project": 101}]}
        self.token = "tok-" + uuid.uuid4().hex

    def put(self, id, task, hours=None):
        t = self.tasks.setdefault(id, {"id": id, "project": 101})
        t.update(task)
        t["modified_date"] = self.clock.tick().isoformat()
        if hours is not None:
            self.values[id] = {"9": hours}

    def handle(self, method, path, q, headers, body):
        if path == "/api/v1/auth" and method == "POST":
            b = _json(body)
            if self.revoked or (b.get("type"), b.get("username"), b.get("password")) != ("normal", self.username, self.password):
                raise Reply(401, {"_error_message": "No active account found with the given credentials"})
            return 200, {"auth_token": self.token, "username": self.username}, {}
        if self.revoked or headers.get("Authorization") != f"Bearer {self.token}":
            raise Reply(401, {"detail": "Invalid token"})
        if path == "/api/v1/task-custom-attributes":
            return 200, self.attributes.get(int(q.get("project", 0)), []), {}
        if path == "/api/v1/tasks":
            rows = sorted((t for t in self.tasks.values() if t["project"] == int(q.get("project", 0))), key=lambda t: t["id"])
            page = int(q.get("page", 1))
            part = rows[(page - 1) * self.PAGE: page * self.PAGE]
            more = page * self.PAGE < len(rows)
            return 200, part, ({"x-pagination-next": f"/api/v1/tasks?page={page + 1}", "x-paginated": "true"} if more else {"x-paginated": "true"})
        m = re.fullmatch(r"/api/v1/tasks/custom-attributes-values/(\d+)", path)
        if m and int(m.group(1)) in self.tasks:
            return 200, {"attributes_values": self.values.get(int(m.group(1)), {}), "version": 1}, {}
        raise Reply(404, {"_error_message": "Not found."})


# --- Snipe-IT 8 ------------------------------------------------------------------------------

class FakeSnipeIT(FakeApp):
    """Snipe-IT 8 /api/v1/hardware: Bearer token; limit/offset/sort/order → {total, rows};
    bytag/{tag}; POST/PATCH answer HTTP 200 {"status": "error", "messages": {...}} on validation
    errors (a unique asset_tag, a required model_id) and {"status": "success", "payload"} otherwise."""

    def __init__(self, token="s3cret-snipe"):
        super().__init__()
        self.token = token
        self.assets: dict[int, dict] = {}
        self.ids = itertools.count(1)

    def put(self, vals, id=None):
        id = id or next(self.ids)
        a = self.assets.setdefault(id, {"id": id})
        a.update(vals)
        a["updated_at"] = {"datetime": self.clock.tick().strftime("%Y-%m-%d %H:%M:%S"), "formatted": "..."}
        return id

    def handle(self, method, path, q, headers, body):
        if self.revoked or headers.get("Authorization") != f"Bearer {self.token}":
            raise Reply(401, {"status": "error", "messages": "Unauthenticated."})
        if path == "/api/v1/hardware" and method == "GET":
            rows = sorted(self.assets.values(), key=lambda a: (a["updated_at"]["datetime"], a["id"]))
            off, lim = int(q.get("offset", 0)), int(q.get("limit", 50))
            return 200, {"total": len(rows), "rows": rows[off: off + lim]}, {}
        m = re.fullmatch(r"/api/v1/hardware/bytag/(.+)", path)
        if m:
            hit = [a for a in self.assets.values() if a.get("asset_tag") == m.group(1)]
            return 200, (hit[0] if hit else {"status": "error", "messages": "Asset does not exist."}), {}
        if path == "/api/v1/hardware" and method == "POST":
            v = _json(body)
            errs = {f: [f"The {f} field is required."] for f in ("asset_tag", "model_id", "status_id") if not v.get(f)}
            if any(a.get("asset_tag") == v.get("asset_tag") for a in self.assets.values()):
                errs["asset_tag"] = ["The asset tag must be unique."]
            if errs:
                return 200, {"status": "error", "messages": errs, "payload": None}, {}
            id = self.put(v)
            self.created()
            return 200, {"status": "success", "messages": "Asset created successfully.", "payload": self.assets[id]}, {}
        m = re.fullmatch(r"/api/v1/hardware/(\d+)", path)
        if m and int(m.group(1)) in self.assets:
            if method == "PATCH":
                self.put(_json(body), int(m.group(1)))
                return 200, {"status": "success", "payload": self.assets[int(m.group(1))]}, {}
            if method == "DELETE":
                del self.assets[int(m.group(1))]
                return 200, {"status": "success", "messages": "Asset deleted."}, {}
        raise Reply(404, {"status": "error", "messages": "Not found"})


# --- GLPI 11 legacy REST ---------------------------------------------------------------------

class FakeGLPI(FakeApp):
    """GLPI 11 /apirest.php: initSession (user_token + App-Token) → session_token; items with
    range → 200/206 and Content-Range; searchText[field]; POST {"input"} → 201 {"id"}; PUT; DELETE;
    401 ["ERROR_SESSION_TOKEN_INVALID", …] on a bad session."""

    def __init__(self, user_token="s3cret-glpi-user", app_token="s3cret-glpi-app"):
        super().__init__()
        self.user_token, self.app_token = user_token, app_token
        self.items: dict[str, dict[int, dict]] = {}
        self.ids = itertools.count(1)
        self.sessions = set()

    def put(self, itemtype, vals, id=None):
        id = id or next(self.ids)
        r = self.items.setdefault(itemtype, {}).setdefault(id, {"id": id})
        r.update(vals)
        r["date_mod"] = self.clock.tick().strftime("%Y-%m-%d %H:%M:%S")
        return id

    def handle(self, method, path, q, headers, body):
        if headers.get("App-Token") != self.app_token:
            raise Reply(400, ["ERROR_WRONG_APP_TOKEN_PARAMETER", "missing or wrong app token"])
        if path == "/apirest.php/initSession":
            if self.revoked or headers.get("Authorization") != f"user_token {self.user_token}":
                raise Reply(401, ["ERROR_GLPI_LOGIN_USER_TOKEN", "wrong user token"])
            s = uuid.uuid4().hex
            self.sessions.add(s)
            return 200, {"session_token": s}, {}
        if self.revoked or headers.get("Session-Token") not in self.sessions:
            raise Reply(401, ["ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"])
        m = re.fullmatch(r"/apirest.php/(\w+)(?:/(\d+))?", path)
        if not m:
            raise Reply(400, ["ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM", ""])
        itemtype, id = m.group(1), m.group(2) and int(m.group(2))
        table = self.items.setdefault(itemtype, {})
        if method == "GET" and id is None:
            rows = sorted(table.values(), key=lambda r: r["id"])
            for k, v in q.items():
                f = re.fullmatch(r"searchText\[(\w+)\]", k)
                if f:
                    rows = [r for r in rows if v in str(r.get(f.group(1), ""))]
            a, b = (int(x) for x in q.get("range", "0-49").split("-"))
            part = rows[a: b + 1]
            hdr = {"Content-Range": f"{a}-{a + max(len(part) - 1, 0)}/{len(rows)}"}
            return (206 if len(part) < len(rows) else 200), part, hdr
        if method == "POST" and id is None:
            v = (_json(body) or {}).get("input")
            if not isinstance(v, dict) or not v.get("name"):
                raise Reply(400, ["ERROR_GLPI_ADD", "name is required"])
            new = self.put(itemtype, v)
            self.created()
            return 201, {"id": new, "message": ""}, {"Location": f"/apirest.php/{itemtype}/{new}"}
        if id not in table:
            raise Reply(404, ["ERROR_ITEM_NOT_FOUND", "not found"])
        if method == "PUT":
            self.put(itemtype, (_json(body) or {}).get("input") or {}, id)
            return 200, [{str(id): True, "message": ""}], {}
        if method == "DELETE":
            del table[id]
            return 200, [{str(id): True, "message": ""}], {}
        if method == "GET":
            return 200, table[id], {}
        raise Reply(405, ["ERROR_METHOD_NOT_ALLOWED", ""])


# --- Zammad 6 --------------------------------------------------------------------------------

class FakeZammad(FakeApp):
    """Zammad 6 /api/v1/tickets: `Token token=` auth; POST with an article → 201; PUT /{id};
    GET /tickets/search?query=title:"…"&page&per_page&expand (Elasticsearch stand-in: substring);
    422 when title, group or customer is missing."""

    def __init__(self, token="s3cret-zammad"):
        super().__init__()
        self.token = token
        self.tickets: dict[int, dict] = {}
        self.ids = itertools.count(1)

    def handle(self, method, path, q, headers, body):
        if self.revoked or headers.get("Authorization") != f"Token token={self.token}":
            raise Reply(401, {"error": "Authentication required"})
        if path == "/api/v1/tickets/search" and method == "GET":
            m = re.fullmatch(r'title:"(.*)"', q.get("query", ""))
            hits = [t for t in self.tickets.values() if m and m.group(1) in t["title"]]
            per, page = int(q.get("per_page", 10)), int(q.get("page", 1))
            return 200, hits[(page - 1) * per: page * per], {}
        if path == "/api/v1/tickets" and method == "POST":
            v = _json(body)
            if not (v.get("title") and v.get("group") and "customer" in v and v.get("article")):
                raise Reply(422, {"error": "title, group, customer and article are required"})
            id = next(self.ids)
            self.tickets[id] = dict(v, id=id, state=v.get("state", "new"))
            self.created()
            return 201, self.tickets[id], {}
        m = re.fullmatch(r"/api/v1/tickets/(\d+)", path)
        if m and int(m.group(1)) in self.tickets and method == "PUT":
            self.tickets[int(m.group(1))].update(_json(body))
            return 200, self.tickets[int(m.group(1))], {}
        raise Reply(404, {"error": "Not found"})


# --- OpenKM 6.3 ------------------------------------------------------------------------------

class FakeOpenKM(FakeApp):
    """OpenKM 6.3 /OpenKM/services/rest with basic auth: document/getChildren (a single child as an
    object, several as a list, as its JAX-RS JSON does), getContent, createSimple (multipart),
    getProperties (by path or uuid), checkout/checkin, delete; property/addKeyword; search/findByKeywords; folder/createSimple
    (409 when it exists)."""
    R = "/OpenKM/services/rest"

    def __init__(self, user="sync", password="s3cret-okm"):
        super().__init__()
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.docs: dict[str, dict] = {}
        self.content: dict[str, bytes] = {}
        self.folders = {"/okm:root"}

    def add(self, path, content: bytes, uuid_=None):
        u = uuid_ or str(uuid.uuid4())
        self.docs[u] = {"uuid": u, "path": path, "keywords": [], "lastModified": self.clock.tick().isoformat()}
        self.content[u] = content
        return u

    def touch(self, u, content):
        self.content[u] = content
        self.docs[u]["lastModified"] = self.clock.tick().isoformat()

    def handle(self, method, path, q, headers, body):
        if self.revoked or headers.get("Authorization") != self.auth:
            raise Reply(401, b"")
        R = self.R
        if path == f"{R}/document/getChildren":
            kids = [d for d in self.docs.values() if d["path"].rsplit("/", 1)[0] == q.get("fldId")]
            return 200, ({} if not kids else {"document": kids[0] if len(kids) == 1 else kids}), {}
        if path == f"{R}/document/getProperties":
            hit = [d for d in self.docs.values() if q.get("docId") in (d["uuid"], d["path"])]
            if not hit:
                raise Reply(404, b"PathNotFoundException")
            return 200, hit[0], {}
        if path == f"{R}/document/getContent":
            if q.get("docId") not in self.content:
                raise Reply(404, b"")
            return 200, self.content[q["docId"]], {"Content-Type": "application/octet-stream"}
        if path == f"{R}/folder/createSimple" and method == "POST":
            p = body.decode()
            if p in self.folders:
                raise Reply(409, b"ItemExistsException")
            self.folders.add(p)
            return 200, {"path": p}, {}
        if path == f"{R}/document/createSimple" and method == "POST":
            parts = _multipart(headers, body)
            p = parts["docPath"].decode()
            if p.rsplit("/", 1)[0] not in self.folders:
                raise Reply(404, b"PathNotFoundException")
            if any(d["path"] == p for d in self.docs.values()):
                raise Reply(409, b"ItemExistsException")
            u = self.add(p, parts["content"])
            self.created()
            return 200, self.docs[u], {}
        if path == f"{R}/property/addKeyword":
            self.docs[q["nodeId"]]["keywords"].append(q["keyword"])
            return 204, b"", {}
        if path == f"{R}/search/findByKeywords":
            return 200, {"queryResult": [d for d in self.docs.values() if q.get("keyword") in d["keywords"]]}, {}
        if path == f"{R}/document/checkout":
            return 204, b"", {}
        if path == f"{R}/document/checkin" and method == "POST":
            parts = _multipart(headers, body)
            self.touch(parts["docId"].decode(), parts["content"])
            return 200, self.docs[parts["docId"].decode()], {}
        if path == f"{R}/document/delete" and method == "DELETE":
            if self.docs.pop(q.get("docId"), None) is None:
                raise Reply(404, b"")
            return 204, b"", {}
        raise Reply(404, b"")
