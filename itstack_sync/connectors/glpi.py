"""GLPI 11 legacy REST API (GLPI 11 `apirest.md`, served at /apirest.php; GLPI 11 keeps it beside
the new high-level API).

Hand-written HTTP (no maintained PyPI client for GLPI 11):
- GET /apirest.php/initSession with `Authorization: user_token …` and `App-Token` → session_token,
  then `Session-Token` on every call (a new session once on 401 ERROR_SESSION_TOKEN_INVALID);
- GET /apirest.php/{Itemtype}?range=a-b&order=ASC (200 or 206 with `Content-Range: a-b/total`);
- GET /apirest.php/{Itemtype}?searchText[field]=… ; POST {"input": {...}} → 201 {"id": n};
  PUT /apirest.php/{Itemtype}/{id} {"input": {...}}; DELETE /apirest.php/{Itemtype}/{id} (to trash).
"""
from __future__ import annotations

from typing import Iterator

from itstack_sync.errors import AuthFailed, Permanent
from itstack_sync.http import Http, expect


class GLPI:
    def __init__(self, http: Http, user_token: str, app_token: str, page_size: int = 200):
        self.http = http
        self._user_token = user_token
        self._app_token = app_token
        self._session: str | None = None
        self.page_size = page_size

    def _headers(self) -> dict:
        if self._session is None:
            body = self.http.json("GET", "/apirest.php/initSession",
                                  headers={"Authorization": f"user_token {self._user_token}", "App-Token": self._app_token})
            expect(isinstance(body, dict) and isinstance(body.get("session_token"), str), "session_token")
            self._session = body["session_token"]
        return {"Session-Token": self._session, "App-Token": self._app_token}

    def _call(self, method, path, **kw):
        try:
            return self.http.request(method, path, headers=self._headers(), **kw)
        except AuthFailed:
            self._session = None  # sessions expire; one new one, then a refusal stands
            return self.http.request(method, path, headers=self._headers(), **kw)

    def _json(self, r):
        try:
            return r.json()
        except ValueError:
            from itstack_sync.errors import Invalid
            raise Invalid("GLPI answer is not JSON") from None

    def items(self, itemtype: str) -> Iterator[list[dict]]:
        start = 0
        while True:
            r = self._call("GET", f"/apirest.php/{itemtype}",
                           params={"range": f"{start}-{start + self.page_size - 1}", "order": "ASC"})
            rows = self._json(r)
            expect(isinstance(rows, list) and all(isinstance(x, dict) and "id" in x for x in rows), f"{itemtype} list")
            if rows:
                yield rows
            total = int((r.headers.get("Content-Range") or "0-0/0").rsplit("/", 1)[-1])
            start += len(rows)
            if not rows or start >= total:
                return

    def search(self, itemtype: str, field: str, value: str) -> list[dict]:
        rows = self._json(self._call("GET", f"/apirest.php/{itemtype}", params={f"searchText[{field}]": value,
                                                                                "range": "0-49"}))
        expect(isinstance(rows, list), f"{itemtype} search")
        # searchText is a LIKE; the flow wants the exact key
        return [x for x in rows if isinstance(x, dict) and str(x.get(field)) == value]

    def create(self, itemtype: str, values: dict) -> int:
        body = self._json(self._call("POST", f"/apirest.php/{itemtype}", json={"input": values}))
        expect(isinstance(body, dict) and isinstance(body.get("id"), int), f"{itemtype} created id")
        return body["id"]

    def update(self, itemtype: str, id: int, values: dict) -> None:
        self._call("PUT", f"/apirest.php/{itemtype}/{id}", json={"input": values})

    def delete(self, itemtype: str, id: int) -> None:
        try:
            self._call("DELETE", f"/apirest.php/{itemtype}/{id}")
        except Permanent as e:
            if "HTTP 404" not in e.reason:
                raise
