"""The sync service against real protocol peers that run here:
- Radicale 3.9 (a real CalDAV server, PyPI) for SuiteCRM meetings → calendar;
- WsgiDAV 4.4 (a real WebDAV server, PyPI) for OpenKM approved documents → Nextcloud folder;
- a real TCP AMI session: our own small AMI server in this file, speaking Asterisk's documented
  Manager protocol (banner, Action: Login → Response: Success/Error, Event blocks ended by an empty
  line), feeding the two telephony flows through asterisk-ami.
Both DAV servers run in this process on 127.0.0.1 (Radicale on wsgiref, WsgiDAV on its own cheroot)
and stop with their fixtures.
The app on the other side of each flow is a fake of its documented API (tests/sync/fakes.py)."""
import base64
import socket
import socketserver
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
import vobject

from itstack_sync import flows as F
from itstack_sync.connectors.ami import AMI, CallTracker
from itstack_sync.connectors.dav import CalDAV, WebDAV
from itstack_sync.connectors.openkm import OpenKM
from itstack_sync.connectors.suitecrm import SuiteCRM
from itstack_sync.connectors.zammad import Zammad
from itstack_sync.engine import Engine
from itstack_sync.errors import AuthFailed
from itstack_sync.store import Store
from sync import cases
from sync.fakes import FakeOpenKM, FakeSuiteCRM, FakeZammad, Server

USER, PASSWORD = "sync", "s3cret-dav"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *a):
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _serve(app):
    httpd = make_server("127.0.0.1", 0, app, server_class=_Threaded, handler_class=_Quiet)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(str(tmp_path / "state.db"))
    yield s
    s.close()


@pytest.fixture
def radicale(tmp_path):
    import radicale as rad
    from radicale import config
    users = tmp_path / "users"
    users.write_text(f"{USER}:{PASSWORD}\n")
    conf = config.load()
    conf.update({"storage": {"filesystem_folder": str(tmp_path / "collections")},
                 "auth": {"type": "htpasswd", "htpasswd_filename": str(users), "htpasswd_encryption": "plain"},
                 "logging": {"level": "warning"}}, "test", privileged=True)
    httpd, url = _serve(rad.Application(conf))
    r = requests.request("MKCALENDAR", f"{url}/{USER}/crm/", auth=(USER, PASSWORD), timeout=10)
    assert r.status_code == 201, r.text
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def wsgidav(tmp_path):
    from wsgidav.wsgidav_app import WsgiDAVApp
    root = tmp_path / "files"
    root.mkdir()
    app = WsgiDAVApp({"provider_mapping": {"/remote.php/dav/files/sync": str(root)},
                      "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
                      "simple_dc": {"user_mapping": {"*": {USER: {"password": PASSWORD}}}},
                      "verbose": 0, "logging": {"enable": False}})
    # WsgiDAV's own server, cheroot: wsgiref (HTTP/1.0, no request body framing) stalls on PUT
    from cheroot import wsgi
    httpd = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
    httpd.prepare()
    t = threading.Thread(target=httpd.serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.bind_addr[1]}", root
    httpd.stop()
    t.join(10)


# --- CalDAV: meetings → Radicale --------------------------------------------------------------

class Meetings:
    def __init__(self, store, url):
        self.store = store
        self.crm = FakeSuiteCRM()
        self.server = Server(self.crm)
        self.url = url
        self.flow = F.MeetingsFlow(SuiteCRM(cases.http(self.server.url), "sync", "s3cret-crm"),
                                   CalDAV(cases.http(url), USER, PASSWORD, f"/{USER}/crm"))

    def add(self, i, v=0, **kw):
        attrs = {"name": f"Meeting {i} v{v}", "date_start": f"2026-03-{1 + i % 28:02d}T09:00:00+00:00",
                 "date_end": f"2026-03-{1 + i % 28:02d}T10:30:00+00:00", "description": "Quarterly review; agenda, notes",
                 "location": "Room 1"}
        attrs.update(kw)
        self.crm.put("Meetings", attrs, id=f"m-{i:05d}")

    def events(self):
        """What Radicale serves: every event resource, parsed as a CalDAV client would."""
        body = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>')
        r = requests.request("PROPFIND", f"{self.url}/{USER}/crm/", data=body, headers={"Depth": "1"},
                             auth=(USER, PASSWORD), timeout=10)
        assert r.status_code == 207
        out = {}
        for href in set(__import__("re").findall(r"<(?:\w+:)?href>([^<]+\.ics)</(?:\w+:)?href>", r.text)):
            ics = requests.get(self.url + href, auth=(USER, PASSWORD), timeout=10).text
            ev = vobject.readOne(ics).vevent
            out[ev.uid.value] = (ev.summary.value, ev.dtstart.value.isoformat(), ev.description.value)
        return out

    def run(self):
        return Engine(self.store).run(self.flow)


@pytest.fixture
def meetings(store, radicale):
    m = Meetings(store, radicale)
    yield m
    m.server.close()


def test_caldav_first_sync_second_nothing_update_delete(meetings):
    for i in range(4):
        meetings.add(i)
    r = meetings.run()
    assert (r.error, r.created) == (None, 4)
    ev = meetings.events()
    assert set(ev) == {f"suitecrm-meeting-m-{i:05d}" for i in range(4)}
    # Radicale parsed our iCalendar: escaped text comes back as it was written in the CRM
    assert ev["suitecrm-meeting-m-00001"] == ("Meeting 1 v0", "2026-03-02T09:00:00+00:00",
                                              "Quarterly review; agenda, notes")
    assert meetings.run().created + meetings.run().updated == 0
    meetings.add(2, v=1)
    assert meetings.run().updated == 1 and meetings.events()["suitecrm-meeting-m-00002"][0] == "Meeting 2 v1"
    del meetings.crm.modules["Meetings"]["m-00003"]
    assert meetings.run().deleted == 1 and "suitecrm-meeting-m-00003" not in meetings.events()


def test_caldav_bad_input_and_401(meetings):
    meetings.add(0)
    meetings.add(1, date_end="2026-02-01T00:00:00+00:00")      # ends before it starts
    meetings.add(2, date_start="next tuesday")
    r = meetings.run()
    dead = meetings.store.dead_letters(F.MeetingsFlow.name)
    assert r.error is None and set(dead) == {"m-00001", "m-00002"}
    assert set(meetings.events()) == {"suitecrm-meeting-m-00000"}
    meetings.flow.target.cal.http.session.auth = (USER, "wrong")
    meetings.add(3)
    r = meetings.run()
    assert "401" in r.error and "m-00003" in meetings.store.dead_letters(F.MeetingsFlow.name)
    meetings.flow.target.cal.http.session.auth = (USER, PASSWORD)
    assert meetings.run().created == 1


def test_caldav_5xx_then_success_and_200_meetings(meetings):
    """Radicale does not fail on demand: the 503 comes from the CRM side of the flow."""
    for i in range(200):
        meetings.add(i)
    cases.SLEEPS.clear()
    meetings.crm.fail(503, 1)
    r = meetings.run()
    assert (r.error, r.created) == (None, 200) and len(meetings.events()) == 200 and len(cases.SLEEPS) == 1


# --- WebDAV: approved documents → WsgiDAV ------------------------------------------------------

def test_webdav_first_sync_second_nothing_update_delete_and_bad_input(store, wsgidav):
    url, root = wsgidav
    okm = FakeOpenKM()
    server = Server(okm)
    try:
        flow = F.ApprovedDocumentsFlow(OpenKM(cases.http(server.url), "sync", "s3cret-okm"),
                                       WebDAV(cases.http(url), USER, PASSWORD, "/remote.php/dav/files/sync"))
        okm.folders.add("/okm:root/Approved")
        ids = [okm.add(f"/okm:root/Approved/contract {i}.pdf", f"contract {i}".encode()) for i in range(3)]
        okm.add("/okm:root/Draft/not approved.pdf", b"draft")
        run = lambda: Engine(store).run(flow)
        r = run()
        assert (r.error, r.created) == (None, 3)
        files = lambda: {p.name: p.read_bytes() for p in (root / "Approved").iterdir()}
        assert files() == {f"contract {i}.pdf": f"contract {i}".encode() for i in range(3)}
        assert run().created + run().updated == 0
        okm.touch(ids[1], b"contract 1 signed")
        assert run().updated == 1 and files()["contract 1.pdf"] == b"contract 1 signed"
        del okm.docs[ids[2]]
        assert run().deleted == 1 and "contract 2.pdf" not in files()
        okm.add("/okm:root/Approved/", b"nameless")                  # a document without a name
        okm.fail(503, 1)
        r = run()
        assert r.error is None and len(store.dead_letters(flow.name)) == 1 and set(files()) == {"contract 0.pdf", "contract 1.pdf"}
    finally:
        server.close()


# --- AMI: a real TCP session --------------------------------------------------------------------

class AmiServer:
    """A small Asterisk Manager Interface server (protocol as Asterisk documents it: a banner line,
    `Action: Login` with Username/Secret answered by `Response: Success` or `Response: Error`,
    events as `Event:` blocks). It replays the scripted event blocks after a successful login."""

    def __init__(self, username, secret, events, per_session=None, drop_after_events=False):
        """`per_session`: a list of event lists, one per login (then `events` for any later one);
        `drop_after_events`: close the connection after sending them (FreePBX going away)."""
        outer = self
        self.sessions = 0
        self.pings = 0

        class H(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"Asterisk Call Manager/9.0.0\r\n")
                block = {}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    line = line.decode().rstrip("\r\n")
                    if line:
                        k, _, v = line.partition(": ")
                        block[k] = v
                        continue
                    action, aid = block.get("Action", "").lower(), block.get("ActionID", "")
                    if action == "login":
                        if (block.get("Username"), block.get("Secret")) == (username, secret):
                            self.wfile.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n".encode())
                            outer.sessions += 1
                            batch = per_session[outer.sessions - 1] if per_session and outer.sessions <= len(per_session) \
                                else events
                            for ev in batch:
                                self.wfile.write(("".join(f"{k}: {v}\r\n" for k, v in ev.items()) + "\r\n").encode())
                            if drop_after_events:
                                return
                        else:
                            self.wfile.write(f"Response: Error\r\nActionID: {aid}\r\nMessage: Authentication failed\r\n\r\n".encode())
                            return
                    elif action == "ping":
                        outer.pings += 1
                        self.wfile.write(f"Response: Success\r\nActionID: {aid}\r\nPing: Pong\r\n"
                                         f"Timestamp: {time.time():.6f}\r\n\r\n".encode())
                    elif action == "logoff":
                        self.wfile.write(f"Response: Goodbye\r\nActionID: {aid}\r\nMessage: Thanks for all the fish.\r\n\r\n".encode())
                        return
                    block = {}

        class S(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.tcp = S(("127.0.0.1", 0), H)
        self.port = self.tcp.server_address[1]
        threading.Thread(target=self.tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.tcp.shutdown()
        self.tcp.server_close()


def call_events(linked, caller, answered, context="from-trunk", t0=1767225600.0):
    agent = f"{linked}1"
    evs = [{"Event": "Newchannel", "Channel": f"PJSIP/trunk-{linked}", "CallerIDNum": caller, "Exten": "200",
            "Context": context, "Uniqueid": linked, "Linkedid": linked, "Timestamp": f"{t0:.6f}"},
           {"Event": "Newchannel", "Channel": "PJSIP/200-0001", "CallerIDNum": "200", "Exten": "s",
            "Context": "from-internal", "Uniqueid": agent, "Linkedid": linked, "Timestamp": f"{t0 + 0.1:.6f}"},
           {"Event": "DialEnd", "DialStatus": "ANSWER" if answered else "NOANSWER", "DestCallerIDNum": "200",
            "Uniqueid": linked, "Linkedid": linked, "Timestamp": f"{t0 + 5:.6f}"},
           {"Event": "Hangup", "Uniqueid": agent, "Linkedid": linked, "Cause": "16", "Timestamp": f"{t0 + 60:.6f}"},
           {"Event": "Hangup", "Uniqueid": linked, "Linkedid": linked, "Cause": "16" if answered else "19",
            "Timestamp": f"{t0 + 61:.6f}"}]
    return evs


def test_ami_session_feeds_call_log_and_missed_call_tickets(store):
    events = (call_events("1767225600.1", "+49305550001", True) + call_events("1767225600.2", "+49305550002", False)
              + call_events("1767225600.3", "201", False, context="from-internal")
              + call_events("1767225600.2", "+49305550002", False))      # the same call sent again
    ami_server = AmiServer("sync", "s3cret-ami", events)
    crm, zammad = FakeSuiteCRM(), FakeZammad()
    crm.put("Contacts", {"last_name": "Known", "phone_work": "+49305550001"}, id="contact-1")
    servers = [Server(crm), Server(zammad)]
    try:
        with pytest.raises(AuthFailed):
            bad = AMI("127.0.0.1", ami_server.port, "sync", "wrong", CallTracker(lambda c: None), reconnect=None)
            try:
                bad.connect()
            finally:
                bad.client.disconnect()
        got = []
        ami = AMI("127.0.0.1", ami_server.port, "sync", "s3cret-ami",
                  CallTracker(lambda c: (got.append(c), F.route_call(store, c))))
        ami.connect()
        deadline = time.time() + 10
        while len(got) < 4 and time.time() < deadline:
            time.sleep(0.05)
        ami.close()
        assert len(got) == 4 and ami_server.sessions == 1
        calls = F.CallLogFlow(store, SuiteCRM(cases.http(servers[0].url), "sync", "s3cret-crm"))
        missed = F.MissedCallsFlow(store, Zammad(servers[1].url, "s3cret-zammad", backoff=cases.backoff()),
                                   "Support", "phone@it-stack.lab")
        r1, r2 = Engine(store).run(calls), Engine(store).run(missed)
        assert (r1.error, r1.created, r2.error, r2.created) == (None, 3, None, 1)
        logged = {c["name"]: (c["status"], c["direction"], c.get("parent_id"), c["duration_minutes"])
                  for c in crm.modules["Calls"].values()}
        assert logged == {"Incoming call +49305550001": ("Held", "Inbound", "contact-1", 1),
                          "Incoming call +49305550002": ("Not Held", "Inbound", None, 1),
                          "Outgoing call 201": ("Not Held", "Outbound", None, 1)}
        assert [t["title"] for t in zammad.tickets.values()] == ["[call:1767225600.2] Missed call from +49305550002"]
        assert Engine(store).run(calls).created + Engine(store).run(missed).created == 0
    finally:
        ami_server.close()
        for s in servers:
            s.close()


def test_ami_session_lost_is_logged_in_again_and_no_call_is_stored_twice(store):
    first = call_events("1767225700.1", "+49305550011", False)
    second = call_events("1767225700.2", "+49305550012", False) + first   # the new session repeats a call
    ami_server = AmiServer("sync", "s3cret-ami", [], per_session=[first, second], drop_after_events=True)
    got = []
    ami = AMI("127.0.0.1", ami_server.port, "sync", "s3cret-ami",
              CallTracker(lambda c: (got.append(c["linkedid"]), F.route_call(store, c))), timeout=1, reconnect=0.2)
    try:
        ami.connect()
        deadline = time.time() + 15
        while len(got) < 3 and time.time() < deadline:
            time.sleep(0.05)
        assert ami_server.sessions >= 2, "no new login after the session was dropped"
        assert sorted(got) == ["1767225700.1", "1767225700.1", "1767225700.2"]
        rows = store.inbox(F.MissedCallsFlow.name, None, 10)
        assert sorted(e for _, e, _ in rows) == ["1767225700.1", "1767225700.2"]
    finally:
        ami.close()
        ami_server.close()
