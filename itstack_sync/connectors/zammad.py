"""Zammad 6 REST API (docs.zammad.org, "REST API → Tickets" for 6.x) through `zammad-py` (PyPI,
maintained): `Authorization: Token token=…`; POST /api/v1/tickets with an `article`;
PUT /api/v1/tickets/{id}; GET /api/v1/tickets/search?query=… (the flows' correlation key lives in
the ticket title, "[glpi#12]" / "[call:1700000000.42]").

zammad-py turns every HTTP error into an HTTPError carrying only the body, so a response hook on
its session sorts status codes into the engine's errors first, and an adapter gives every call a
timeout (zammad-py sets none).
"""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from zammad_py import ZammadAPI

from itstack_sync.errors import AuthFailed, Permanent, Transient
from itstack_sync.http import expect
from itstack_sync.retry import Backoff


class _Timeout(HTTPAdapter):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def send(self, request, **kw):
        kw["timeout"] = kw.get("timeout") or self.timeout
        return super().send(request, **kw)


def _classify(r: requests.Response, *args, **kw):
    where = f"Zammad {r.request.method} {requests.utils.urlparse(r.url).path}"
    if r.status_code >= 500 or r.status_code == 429:
        raise Transient(f"{where}: HTTP {r.status_code}")
    if r.status_code in (401, 403):
        raise AuthFailed(f"{where}: HTTP {r.status_code}")
    if r.status_code >= 400:
        raise Permanent(f"{where}: HTTP {r.status_code}")


class Zammad:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0, backoff: Backoff | None = None):
        self.api = ZammadAPI(url=url.rstrip("/") + "/api/v1/", http_token=token)
        self.api.session.hooks["response"].append(_classify)
        for prefix in ("http://", "https://"):
            self.api.session.mount(prefix, _Timeout(timeout))
        self.backoff = backoff or Backoff()

    def _do(self, fn):
        def once():
            try:
                return fn()
            except (requests.Timeout, requests.ConnectionError) as e:
                raise Transient(f"Zammad: {type(e).__name__}") from None
        return self.backoff.call(once)

    def find(self, marker: str) -> int | None:
        res = self._do(lambda: self.api.ticket.search(f'title:"{marker}"', filters={"per_page": 5}))
        for t in res:
            if isinstance(t, dict) and marker in str(t.get("title", "")):
                return t["id"]
        return None

    def create(self, params: dict) -> int:
        t = self._do(lambda: self.api.ticket.create(params))
        expect(isinstance(t, dict) and isinstance(t.get("id"), int), "created ticket")
        return t["id"]

    def update(self, id: int, params: dict) -> None:
        self._do(lambda: self.api.ticket.update(id, params))
