"""SuiteCRM 8, its V8 JSON:API (SuiteCRM docs, "Developer Guide → JSON API", API v8 as shipped in
SuiteCRM 8.x under /legacy/Api; Api/docs/swagger in the SuiteCRM source).

Hand-written HTTP (no maintained PyPI client for the V8 API):
- OAuth2 `client_credentials` at POST /legacy/Api/access_token → bearer token (renewed once on 401);
- GET /legacy/Api/V8/module/{Module}?filter[date_modified][gte]=…&sort=date_modified&page[number]&page[size]
  (JSON:API list: `data[]` of {type, id, attributes}, `meta.total-pages`);
- POST /legacy/Api/V8/module {data: {type, id?, attributes}} (a client-chosen id is kept: JSON:API's
  client-generated ids, which the two-way flow uses to stay idempotent);
- PATCH /legacy/Api/V8/module {data: {type, id, attributes}}; DELETE /legacy/Api/V8/module/{Module}/{id};
- media type application/vnd.api+json both ways.
"""
from __future__ import annotations

from typing import Iterator

from itstack_sync.errors import AuthFailed, Permanent
from itstack_sync.http import Http, expect

JSONAPI = "application/vnd.api+json"


class SuiteCRM:
    def __init__(self, http: Http, client_id: str, client_secret: str, *, prefix: str = "/legacy/Api",
                 page_size: int = 100):
        self.http = http
        self._cid = client_id
        self._secret = client_secret
        self.prefix = prefix
        self.page_size = page_size
        self._token: str | None = None

    def _login(self) -> None:
        body = self.http.json("POST", f"{self.prefix}/access_token",
                              json={"grant_type": "client_credentials", "client_id": self._cid,
                                    "client_secret": self._secret})
        expect(isinstance(body, dict) and isinstance(body.get("access_token"), str), "access_token missing")
        self._token = body["access_token"]

    def _call(self, method: str, path: str, **kw):
        if self._token is None:
            self._login()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": JSONAPI}
        if "json" in kw:
            headers["Content-Type"] = JSONAPI
        try:
            return self.http.json(method, f"{self.prefix}/V8{path}", headers=headers, **kw)
        except AuthFailed:
            # tokens expire (1 h by default): log in again once, then let a second refusal stand
            self._login()
            headers["Authorization"] = f"Bearer {self._token}"
            return self.http.json(method, f"{self.prefix}/V8{path}", headers=headers, **kw)

    def pages(self, module: str, since: str | None, fields: list[str] | None = None) -> Iterator[list[dict]]:
        """Records modified at or after `since` (gte: records sharing the boundary second are read
        again and found unchanged by their fingerprint, never skipped), oldest first."""
        n = 1
        while True:
            params = {"sort": "date_modified", "page[number]": n, "page[size]": self.page_size}
            if since:
                params["filter[date_modified][gte]"] = since
            if fields:
                params[f"fields[{module}]"] = ",".join(fields)
            body = self._call("GET", f"/module/{module}", params=params)
            expect(isinstance(body, dict) and isinstance(body.get("data", []), list), f"{module} list")
            rows = body.get("data", [])
            for r in rows:
                expect(isinstance(r, dict) and "id" in r and isinstance(r.get("attributes"), dict), f"{module} row")
            if rows:
                yield [dict(r["attributes"], id=r["id"]) for r in rows]
            total = (body.get("meta") or {}).get("total-pages", n)
            if not rows or n >= int(total):
                return
            n += 1

    def get(self, module: str, id: str) -> dict | None:
        try:
            body = self._call("GET", f"/module/{module}/{id}")
        except Permanent as e:
            if "HTTP 404" in e.reason or "HTTP 400" in e.reason:
                return None
            raise
        expect(isinstance(body, dict) and isinstance(body.get("data"), dict), f"{module} record")
        d = body["data"]
        return dict(d.get("attributes") or {}, id=d.get("id"))

    def ids(self, module: str) -> set[str]:
        return {r["id"] for page in self.pages(module, None, ["id"]) for r in page}

    def create(self, module: str, attributes: dict, id: str | None = None) -> str:
        data = {"type": module, "attributes": attributes}
        if id:
            data["id"] = id
        body = self._call("POST", "/module", json={"data": data})
        expect(isinstance(body, dict) and isinstance((body.get("data") or {}).get("id"), str), "created id")
        return body["data"]["id"]

    def update(self, module: str, id: str, attributes: dict) -> None:
        self._call("PATCH", "/module", json={"data": {"type": module, "id": id, "attributes": attributes}})

    def delete(self, module: str, id: str) -> None:
        try:
            self._call("DELETE", f"/module/{module}/{id}")
        except Permanent as e:
            if "HTTP 404" not in e.reason:  # already gone is what we wanted
                raise

    def find_by(self, module: str, field: str, value: str) -> list[dict]:
        body = self._call("GET", f"/module/{module}", params={f"filter[{field}][eq]": value, "page[size]": 20})
        expect(isinstance(body, dict) and isinstance(body.get("data", []), list), f"{module} search")
        return [dict(r.get("attributes") or {}, id=r.get("id")) for r in body.get("data", [])]
