"""FreePBX's Asterisk Manager Interface (Asterisk 21/22 documentation, "Asterisk Manager Interface
(AMI)" and its event reference: Newchannel, DialEnd, Hangup; FreePBX 17 ships Asterisk 21/22) through
`asterisk-ami` (PyPI): a TCP session on port 5038, `Action: Login` with Username/Secret, then events
as `Key: Value` lines ended by an empty line.

`CallTracker` folds a call's events (all channels sharing a Linkedid) into one call record when its
first channel hangs up, and hands it to `on_call`; the service stores it in its inbox at once
(the event id is the Linkedid, so a replayed event is stored once), and the telephony flows read the
inbox like any other source. Events carry `Timestamp` when manager.conf says timestampevents=yes
(the service's FreePBX settings do); otherwise the receipt time is used.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from asterisk.ami import AMIClient, AutoReconnect

from itstack_sync.errors import AuthFailed, Transient

INBOUND_CONTEXTS = ("from-trunk", "from-pstn", "from-did-direct", "ext-did")


class CallTracker:
    def __init__(self, on_call: Callable[[dict], None], inbound_contexts=INBOUND_CONTEXTS):
        self.on_call = on_call
        self.inbound = tuple(inbound_contexts)
        self.calls: dict[str, dict] = {}
        self.lock = threading.Lock()

    def event(self, name: str, keys: dict) -> None:
        linked = keys.get("Linkedid") or keys.get("Uniqueid")
        if not linked:
            return
        ts = float(keys.get("Timestamp") or time.time())
        with self.lock:
            if name == "Newchannel":
                call = self.calls.setdefault(linked, {"linkedid": linked, "started": ts, "answered": False,
                                                     "caller": None, "dialed": None, "inbound": False})
                if keys.get("Uniqueid") == linked:  # the first channel says who called whom
                    call["caller"] = keys.get("CallerIDNum")
                    call["dialed"] = keys.get("Exten")
                    call["inbound"] = keys.get("Context", "") in self.inbound
            elif name == "DialEnd" and linked in self.calls:
                if keys.get("DialStatus") == "ANSWER":
                    self.calls[linked]["answered"] = True
                    self.calls[linked]["agent"] = keys.get("DestCallerIDNum")
            elif name == "Hangup" and keys.get("Uniqueid") == linked and linked in self.calls:
                call = self.calls.pop(linked)
                call["ended"] = ts
                call["cause"] = keys.get("Cause")
            else:
                return
        if name == "Hangup" and call.get("ended"):
            self.on_call(call)


class AMI:
    """One manager session. `reconnect` seconds: asterisk-ami's AutoReconnect pings (Action: Ping)
    at that interval and logs in again when the session is gone (FreePBX restarted, network cut);
    calls replayed by the new session are stored once (the inbox keys them by Linkedid)."""

    def __init__(self, host: str, port: int, username: str, secret: str, tracker: CallTracker, timeout: float = 5,
                 reconnect: float | None = 5.0):
        self.client = AMIClient(address=host, port=port, timeout=timeout)
        self._user = username
        self._secret = secret
        self.tracker = tracker
        self.client.add_event_listener(lambda event, source: tracker.event(event.name, dict(event.keys)))
        self.reconnect = AutoReconnect(self.client, delay=reconnect) if reconnect else None
        if self.reconnect is not None:
            self.reconnect.daemon = True  # never keeps the process alive on its own

    def connect(self) -> None:
        try:
            future = self.client.login(username=self._user, secret=self._secret)
            resp = future.response
        except OSError as e:
            raise Transient(f"AMI connect: {type(e).__name__}") from None
        if resp is None:
            raise Transient("AMI login: no response")
        if resp.is_error():
            raise AuthFailed("AMI login: refused")

    def close(self) -> None:
        try:
            if self.reconnect is not None and self.reconnect.finished is None:
                self.reconnect.finished = __import__("threading").Event()  # never started: nothing to stop
            self.client.logoff()
        finally:
            if self.reconnect is not None and self.reconnect.is_alive():
                self.reconnect.finished.set()
                self.reconnect.join(self.reconnect.delay + 5)
            self.client.disconnect()
