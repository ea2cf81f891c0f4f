"""Taiga 6 REST API (Taiga API documentation, api.taiga.io, "Taiga REST API" for taiga-back 6.x).

Hand-written HTTP (python-taiga on PyPI is unmaintained since 2023):
- POST /api/v1/auth {type: "normal", username, password} → `auth_token`, sent as `Authorization: Bearer`;
- GET /api/v1/tasks?project=ID&page=N (30 per page; the `x-pagination-next` header says whether more);
- GET /api/v1/task-custom-attributes?project=ID (the "Hours" attribute's id);
- GET /api/v1/tasks/custom-attributes-values/{task_id} → {"attributes_values": {"<attr id>": value}}.
Taiga has no timesheets of its own: a project records hours in a task custom attribute (named by
the flow's settings, "Hours" by default); a closed task is a billable line.
"""
from __future__ import annotations

from typing import Iterator

from itstack_sync.errors import AuthFailed, Invalid
from itstack_sync.http import Http, expect


class Taiga:
    def __init__(self, http: Http, username: str, password: str):
        self.http = http
        self._user = username
        self._password = password
        self._token: str | None = None

    def _get(self, path: str, **params):
        if self._token is None:
            body = self.http.json("POST", "/api/v1/auth", json={"type": "normal", "username": self._user,
                                                               "password": self._password})
            expect(isinstance(body, dict) and isinstance(body.get("auth_token"), str), "auth_token")
            self._token = body["auth_token"]
        return self.http.request("GET", path, params=params, headers={"Authorization": f"Bearer {self._token}"})

    def attribute_id(self, project: int, name: str) -> int:
        r = self._get("/api/v1/task-custom-attributes", project=project)
        rows = _json(r)
        expect(isinstance(rows, list), "custom attributes")
        for a in rows:
            if isinstance(a, dict) and a.get("name") == name:
                return a["id"]
        raise Invalid(f"Taiga project {project} has no task custom attribute {name!r} (renamed?)")

    def tasks(self, project: int) -> Iterator[list[dict]]:
        page = 1
        while True:
            r = self._get("/api/v1/tasks", project=project, page=page)
            rows = _json(r)
            expect(isinstance(rows, list) and all(isinstance(t, dict) and "id" in t for t in rows), "tasks")
            if rows:
                yield rows
            if not r.headers.get("x-pagination-next"):
                return
            page += 1

    def attribute_values(self, task_id: int) -> dict:
        body = _json(self._get(f"/api/v1/tasks/custom-attributes-values/{task_id}"))
        expect(isinstance(body, dict) and isinstance(body.get("attributes_values"), dict), "attribute values")
        return body["attributes_values"]


def _json(r):
    try:
        return r.json()
    except ValueError:
        raise Invalid("Taiga answer is not JSON") from None
