"""OpenKM 6.3 REST API (OpenKM 6.3 documentation, "Web services → REST", base
/OpenKM/services/rest), HTTP basic auth, JSON with `Accept: application/json`.

Hand-written HTTP (no PyPI client):
- GET /document/getChildren?fldId=PATH → {"document": [ {uuid, path, lastModified, ...} ]} (a single
  child arrives as an object, not a list: JAX-RS' JSON mapping, handled);
- GET /document/getContent?docId=UUID (bytes);
- POST /document/createSimple (multipart: docPath, content) → the document;
- PUT /document/checkout?docId, POST /document/checkin (multipart: docId, content, comment);
- POST /property/addKeyword?nodeId&keyword; GET /search/findByKeywords?keyword=… (correlation);
- DELETE /document/delete?docId; POST /folder/createSimple (body: the path) for missing folders.
"""
from __future__ import annotations

from itstack_sync.errors import Permanent
from itstack_sync.http import Http, expect

REST = "/OpenKM/services/rest"


class OpenKM:
    def __init__(self, http: Http, user: str, password: str):
        self.http = http
        self.http.session.auth = (user, password)
        self.http.session.headers["Accept"] = "application/json"

    @staticmethod
    def _list(body, key: str) -> list[dict]:
        if body in (None, "", {}):
            return []
        expect(isinstance(body, dict), f"{key} list")
        v = body.get(key, [])
        v = [v] if isinstance(v, dict) else v
        expect(isinstance(v, list) and all(isinstance(d, dict) and "uuid" in d for d in v), f"{key} entries")
        return v

    def children(self, folder: str) -> list[dict]:
        return self._list(self.http.json("GET", f"{REST}/document/getChildren", params={"fldId": folder}), "document")

    def content(self, uuid: str) -> bytes:
        return self.http.request("GET", f"{REST}/document/getContent", params={"docId": uuid}).content

    def find_keyword(self, keyword: str) -> list[dict]:
        body = self.http.json("GET", f"{REST}/search/findByKeywords", params={"keyword": keyword})
        return self._list(body, "queryResult") if isinstance(body, dict) and "queryResult" in body else \
            self._list(body, "document")

    def ensure_folder(self, path: str) -> None:
        try:
            self.http.request("POST", f"{REST}/folder/createSimple", data=path.encode(),
                              headers={"Content-Type": "application/json"})
        except Permanent as e:
            if "HTTP 409" not in e.reason and "HTTP 400" not in e.reason:  # exists already
                raise

    def properties(self, path_or_uuid: str) -> dict | None:
        try:
            body = self.http.json("GET", f"{REST}/document/getProperties", params={"docId": path_or_uuid})
        except Permanent as e:
            if "HTTP 404" in e.reason:
                return None
            raise
        expect(isinstance(body, dict) and isinstance(body.get("uuid"), str), "document properties")
        return body

    def create(self, path: str, content: bytes, keyword: str) -> str:
        """Create and tag. Two calls, so a crash can fall between them: a 409 (ItemExistsException)
        on the flow's own deterministic path means our earlier try got that far; adopt it."""
        try:
            body = self.http.json("POST", f"{REST}/document/createSimple",
                                  files={"docPath": (None, path), "content": ("content", content)})
            expect(isinstance(body, dict) and isinstance(body.get("uuid"), str), "created document")
        except Permanent as e:
            if "HTTP 409" not in e.reason or not (body := self.properties(path)):
                raise
            self.update(body["uuid"], content)
        if keyword not in (body.get("keywords") or []):
            self.http.request("POST", f"{REST}/property/addKeyword", params={"nodeId": body["uuid"], "keyword": keyword})
        return body["uuid"]

    def update(self, uuid: str, content: bytes) -> None:
        self.http.request("PUT", f"{REST}/document/checkout", params={"docId": uuid})
        self.http.request("POST", f"{REST}/document/checkin",
                          files={"docId": (None, uuid), "content": ("content", content), "comment": (None, "itstack-sync")})

    def delete(self, uuid: str) -> None:
        try:
            self.http.request("DELETE", f"{REST}/document/delete", params={"docId": uuid})
        except Permanent as e:
            if "HTTP 404" not in e.reason:
                raise
