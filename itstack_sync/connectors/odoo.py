"""Odoo 18 through its external JSON-RPC API (Odoo 18.0 documentation, "Developer → Reference →
External API"): POST /jsonrpc with {"jsonrpc": "2.0", "method": "call", "params": {"service",
"method", "args"}}; `common.authenticate(db, login, password, {})` → uid (false when refused);
`object.execute_kw(db, uid, password, model, method, args, kwargs)` for search_read, read, create
(a list of values → a list of ids, one transaction), write, and archiving (`active: False`).

Hand-written HTTP: Odoo ships no Python client for it (OdooRPC and friends are third-party, and a
dozen lines do). Errors arrive as HTTP 200 with an `error` member whose `data.name` is the Python
exception: AccessDenied/AccessError → AuthFailed; ValidationError, UserError, MissingError,
ValueError → Permanent; database serialization failures → Transient (Odoo itself retries those).
"""
from __future__ import annotations

import itertools

from itstack_sync.errors import AuthFailed, Invalid, Permanent, Transient
from itstack_sync.http import Http, expect

_ids = itertools.count(1)


class Odoo:
    def __init__(self, http: Http, db: str, login: str, password: str):
        self.http = http
        self.db = db
        self._login = login
        self._password = password
        self._uid: int | None = None

    def _rpc(self, service: str, method: str, *args):
        body = self.http.json("POST", "/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "id": next(_ids),
                                                       "params": {"service": service, "method": method, "args": args}})
        expect(isinstance(body, dict) and ("result" in body or "error" in body), "JSON-RPC envelope")
        if "error" in body:
            err = body["error"] if isinstance(body["error"], dict) else {}
            name = str((err.get("data") or {}).get("name", ""))
            short = name.rsplit(".", 1)[-1] or "error"
            if short in ("AccessDenied", "AccessError", "SessionExpiredException"):
                raise AuthFailed(f"Odoo {method}: {short}")
            if "SerializationFailure" in name or "OperationalError" in name or "LockNotAvailable" in name:
                raise Transient(f"Odoo {method}: {short}")
            raise Permanent(f"Odoo {method}: {short}")
        return body["result"]

    def uid(self) -> int:
        if self._uid is None:
            uid = self._rpc("common", "authenticate", self.db, self._login, self._password, {})
            if not uid:
                raise AuthFailed("Odoo authenticate: refused")
            expect(isinstance(uid, int), "uid")
            self._uid = uid
        return self._uid

    def call(self, model: str, method: str, args: list, **kwargs):
        return self._rpc("object", "execute_kw", self.db, self.uid(), self._password, model, method, args, kwargs)

    def search_read(self, model: str, domain: list, fields: list[str], *, order: str = "id", limit: int = 0,
                    offset: int = 0, archived: bool = False) -> list[dict]:
        kw = {"fields": fields, "order": order, "limit": limit, "offset": offset}
        if archived:
            kw["context"] = {"active_test": False}
        rows = self.call(model, "search_read", [domain], **kw)
        expect(isinstance(rows, list) and all(isinstance(r, dict) and "id" in r for r in rows), f"{model} rows")
        return rows

    def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict]:
        rows = self.call(model, "read", [ids], fields=fields, context={"active_test": False})
        expect(isinstance(rows, list), f"{model} read")
        return rows

    def create(self, model: str, values: list[dict]) -> list[int]:
        ids = self.call(model, "create", [values])
        if isinstance(ids, int):
            ids = [ids]
        expect(isinstance(ids, list) and len(ids) == len(values), f"{model} create ids")
        return ids

    def write(self, model: str, ids: list[int], values: dict) -> None:
        ok = self.call(model, "write", [ids, values])
        if ok is not True:
            raise Invalid(f"{model} write answered {type(ok).__name__}")
