"""Nextcloud's CalDAV (RFC 4791) and WebDAV (RFC 4918) endpoints: /remote.php/dav/calendars/{user}/{calendar}/
and /remote.php/dav/files/{user}/… (Nextcloud 30 admin/developer manuals, "WebDAV" and "Calendar").

Hand-written HTTP, on purpose: the flows only PUT, DELETE and MKCOL resources whose names they
choose (the event UID, the document path), which is what makes them idempotent. The `caldav`
client (3.6) would add a recurring-ical-events dependency that caps python-dateutil below 3,
against the pin the rest of the project uses; `webdavclient3` would add nothing these three verbs need.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from itstack_sync.errors import Permanent
from itstack_sync.http import Http


class WebDAV:
    def __init__(self, http: Http, user: str, password: str, root: str):
        self.http = http
        self.http.session.auth = (user, password)
        self.root = root.rstrip("/")

    def url(self, path: str) -> str:
        return self.root + "/" + "/".join(quote(p) for p in path.strip("/").split("/"))

    def mkcols(self, folder: str) -> None:
        parts = [p for p in folder.strip("/").split("/") if p]
        for i in range(1, len(parts) + 1):
            try:
                self.http.request("MKCOL", self.url("/".join(parts[:i])) + "/")
            except Permanent as e:
                if "HTTP 405" not in e.reason:  # 405: the collection exists
                    raise

    def put(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        r = self.http.request("PUT", self.url(path), data=body, headers={"Content-Type": content_type})
        return r.headers.get("ETag", "")

    def get(self, path: str) -> bytes | None:
        try:
            return self.http.request("GET", self.url(path)).content
        except Permanent as e:
            if "HTTP 404" in e.reason:
                return None
            raise

    def delete(self, path: str) -> None:
        try:
            self.http.request("DELETE", self.url(path))
        except Permanent as e:
            if "HTTP 404" not in e.reason:
                raise


def _esc(text: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets are folded."""
    out, b = [], line.encode()
    while len(b) > 75:
        cut = 75
        while (b[cut] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            cut -= 1
        out.append(b[:cut].decode())
        b = b" " + b[cut:]
    out.append(b.decode())
    return "\r\n".join(out)


def vevent(uid: str, summary: str, start: datetime, end: datetime, description: str = "",
           location: str = "", sequence: int = 0) -> bytes:
    fmt = lambda d: d.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//itstack//itstack-sync//EN", "BEGIN:VEVENT",
             f"UID:{uid}", f"DTSTAMP:{fmt(datetime.now(timezone.utc))}", f"DTSTART:{fmt(start)}", f"DTEND:{fmt(end)}",
             f"SUMMARY:{_esc(summary)}", f"SEQUENCE:{sequence}"]
    if description:
        lines.append(f"DESCRIPTION:{_esc(description)}")
    if location:
        lines.append(f"LOCATION:{_esc(location)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(l) for l in lines) + "\r\n").encode()


class CalDAV(WebDAV):
    """A calendar collection: one event resource per meeting, named by its UID."""

    def put_event(self, uid: str, ics: bytes) -> str:
        return self.put(f"{uid}.ics", ics, "text/calendar; charset=utf-8")
