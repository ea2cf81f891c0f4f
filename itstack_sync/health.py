"""Per-flow health over HTTP, for Zabbix (the catalogue's monitoring entry) and for webhooks.

GET  /health            → 200 {"flows": {name: {...}}} when every flow is healthy, else 503
GET  /health/{flow}     → the same for one flow: last_success (epoch s), lag_seconds (now - last
                          success), dead_letters, last_error; 503 when lag > max_lag or it failed
POST /trigger/{flow}    → a webhook from an app asks for a run now; needs `Authorization: Bearer
                          <trigger token>`, or the token as a last path segment
                          (/trigger/{flow}/{token}) for apps whose webhooks cannot set a header;
                          the body is ignored (the cursor, not the payload, says
                          what changed, so a forged or replayed webhook can only cause a poll)
"""
from __future__ import annotations

import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def flow_health(state: dict | None, now: float, max_lag: float) -> tuple[bool, dict]:
    if state is None:
        return False, {"last_success": None, "lag_seconds": None, "dead_letters": 0, "last_error": "never ran"}
    last = state.get("last_success")
    lag = None if last is None else round(now - last, 1)
    body = {"last_success": last, "lag_seconds": lag, "dead_letters": state.get("dead_letters", 0),
            "last_error": state.get("last_error"), "processed": state.get("processed", 0)}
    ok = last is not None and lag <= max_lag and not state.get("last_error")
    return ok, body


class HealthServer:
    def __init__(self, health: Callable[[], dict], flows: list[str], trigger: Callable[[str], None],
                 token: str | None, *, host: str = "0.0.0.0", port: int = 8080, max_lag: float = 3600):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # the access log would carry nothing useful and the token header
                pass

            def _send(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                states = health()
                now = time.time()
                parts = self.path.strip("/").split("/")
                if parts == ["health"]:
                    res = {f: flow_health(states.get(f), now, max_lag) for f in flows}
                    self._send(200 if all(ok for ok, _ in res.values()) else 503,
                               {"flows": {f: dict(b, ok=ok) for f, (ok, b) in res.items()}})
                elif len(parts) == 2 and parts[0] == "health" and parts[1] in flows:
                    ok, b = flow_health(states.get(parts[1]), now, max_lag)
                    self._send(200 if ok else 503, dict(b, ok=ok, flow=parts[1]))
                else:
                    self._send(404, {"error": "unknown path"})

            def do_POST(self):
                parts = self.path.strip("/").split("/")
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(min(n, 1 << 20))
                given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if len(parts) == 3:
                    given, parts = parts[2], parts[:2]
                if not token or not hmac.compare_digest(given.encode(), token.encode()):
                    return self._send(401, {"error": "unauthorized"})
                if len(parts) == 2 and parts[0] == "trigger" and parts[1] in flows:
                    trigger(parts[1])
                    return self._send(202, {"queued": parts[1]})
                self._send(404, {"error": "unknown flow"})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "HealthServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
