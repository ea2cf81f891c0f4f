"""Snipe-IT 8 REST API (snipe-it.readme.io, "API reference" for v8.x): `Authorization: Bearer`
personal access token, `Accept: application/json`.

Hand-written HTTP (the PyPI `snipeit` client is a thin, stale wrapper):
- GET /api/v1/hardware?limit&offset&sort=updated_at&order=asc → {"total", "rows"};
- GET /api/v1/hardware/bytag/{asset_tag} (the correlation key of the purchase-order flow);
- POST /api/v1/hardware, PATCH /api/v1/hardware/{id}, DELETE /api/v1/hardware/{id} (soft delete).
Snipe-IT answers refused writes with HTTP 200 and {"status": "error", "messages": {field: [...]}}:
that is a Permanent error naming the fields, never a success.
"""
from __future__ import annotations

from typing import Iterator

from itstack_sync.errors import Permanent
from itstack_sync.http import Http, expect


class SnipeIT:
    def __init__(self, http: Http, token: str, page_size: int = 500):
        self.http = http
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.page_size = page_size

    def _call(self, method, path, **kw):
        body = self.http.json(method, path, headers=self._headers, **kw)
        if isinstance(body, dict) and body.get("status") == "error":
            msgs = body.get("messages")
            what = ",".join(sorted(msgs)) if isinstance(msgs, dict) else "refused"
            raise Permanent(f"Snipe-IT {method} {path.split('?')[0]}: error in {what}")
        return body

    def assets(self) -> Iterator[list[dict]]:
        offset = 0
        while True:
            body = self._call("GET", "/api/v1/hardware", params={"limit": self.page_size, "offset": offset,
                                                                  "sort": "updated_at", "order": "asc"})
            expect(isinstance(body, dict) and isinstance(body.get("rows"), list) and "total" in body, "hardware list")
            rows = body["rows"]
            if rows:
                yield rows
            offset += len(rows)
            if not rows or offset >= int(body["total"]):
                return

    def by_tag(self, tag: str) -> dict | None:
        try:
            body = self._call("GET", f"/api/v1/hardware/bytag/{tag}")
        except Permanent:
            return None  # "Asset does not exist" (200 + status error, or 404)
        expect(isinstance(body, dict) and "id" in body, "asset")
        return body

    def create(self, values: dict) -> int:
        body = self._call("POST", "/api/v1/hardware", json=values)
        expect(isinstance(body, dict) and isinstance((body.get("payload") or {}).get("id"), int), "created asset")
        return body["payload"]["id"]

    def update(self, id: int, values: dict) -> None:
        self._call("PATCH", f"/api/v1/hardware/{id}", json=values)

    def delete(self, id: int) -> None:
        try:
            self._call("DELETE", f"/api/v1/hardware/{id}")
        except Permanent as e:
            if "HTTP 404" not in e.reason:
                raise
