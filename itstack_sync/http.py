"""The one place where hand-written HTTP meets `requests`: status codes become the engine's errors.

5xx and timeouts are Transient (retried by `Backoff`), 401/403 AuthFailed, other 4xx Permanent,
and a body that is not the JSON the API documents is Invalid ("garbage"). Reasons carry the method,
the path and the status, never a header, a query string or a body, so they are safe to log.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests

from itstack_sync.errors import AuthFailed, Invalid, Permanent, Transient
from itstack_sync.retry import Backoff


class Http:
    def __init__(self, base_url: str, *, timeout: float = 10.0, backoff: Backoff | None = None,
                 verify: bool | str = True, user_agent: str = "itstack-sync"):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.session = requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = user_agent

    def close(self) -> None:
        self.session.close()

    def _once(self, method: str, path: str, **kw) -> requests.Response:
        where = f"{method} {urlsplit(path).path}"
        try:
            r = self.session.request(method, self.base_url + path, timeout=self.timeout, **kw)
        except (requests.Timeout, requests.ConnectionError) as e:
            raise Transient(f"{where}: {type(e).__name__}") from None
        if r.status_code >= 500 or r.status_code == 429:
            raise Transient(f"{where}: HTTP {r.status_code}")
        if r.status_code in (401, 403):
            raise AuthFailed(f"{where}: HTTP {r.status_code}")
        if r.status_code >= 400:
            raise Permanent(f"{where}: HTTP {r.status_code}{_app_reason(r)}")
        return r

    def request(self, method: str, path: str, **kw) -> requests.Response:
        return self.backoff.call(lambda: self._once(method, path, **kw))

    def json(self, method: str, path: str, **kw):
        r = self.request(method, path, **kw)
        if r.status_code == 204 or not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            raise Invalid(f"{method} {urlsplit(path).path}: answer is not JSON") from None


def _app_reason(r: requests.Response) -> str:
    """A short machine reason from a 4xx body: the names of the fields an app refused, or its error
    code, never the text (apps echo the submitted values, e.g. "'ann@example.org' is taken")."""
    try:
        body = r.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for k in ("errors", "messages", "error", "detail"):
            v = body.get(k)
            if isinstance(v, dict):
                return f": {k} in " + ",".join(sorted(map(str, v)))[:200]
            if v is not None:
                return f": {k}"
    if isinstance(body, list) and body and isinstance(body[0], str) and body[0].isupper():
        return ": " + body[0][:60]  # GLPI answers ["ERROR_CODE", "text"]
    return ""


def expect(cond: bool, what: str) -> None:
    """Garbage check for an answer's shape."""
    if not cond:
        raise Invalid(f"unexpected answer: {what}")
