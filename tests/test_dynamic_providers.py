"""The hand-written dynamic providers, called method by method against small fake servers.

Mattermost, Zabbix and Graylog cannot run here, so each test starts an HTTP server on
127.0.0.1 that answers the few API calls a provider makes, the way the real server answers
them (status codes, login refusals, 404 for what is gone). The providers' real HTTP clients
talk to it. MariaDB's provider is checked here for `diff` and login errors, and against the
real MariaDB in tests/containers/test_mariadb_provider.py.

What every provider must do (issue 12, item 3):
- `diff` reports a change when where or how it connects changes (address, port, admin user,
  admin password), so state never keeps a stale one for refresh and destroy;
- `read` and `delete` raise when the login is refused, instead of "gone" or a silent no-op;
- no secret in any error message.
"""
from __future__ import annotations

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.collaboration import mattermost_admin as mm
from components.data import mariadb_database as mdb
from components.infrastructure import graylog_api as gl
from components.infrastructure import zabbix_api as zbx


class FakeServer:
    """An HTTP server whose answers come from `app(method, path, headers, body)`."""

    def __init__(self, app):
        self.app = app
        self.calls: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                outer.calls.append((self.command, self.path))
                status, headers, answer = outer.app(self.command, self.path, self.headers, body)
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A URL where nothing listens (a server that moved away)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def assert_no_secret(exc: BaseException, *secrets: str):
    for secret in secrets:
        assert secret not in str(exc), f"secret in message: {exc}"


# --------------------------------------------------------------------------------------------
# Mattermost
# --------------------------------------------------------------------------------------------
class FakeMattermost:
    """Users (the first one becomes system admin), login tokens, teams, channels, incoming hooks."""

    def __init__(self):
        self.users: dict[str, dict] = {}  # username -> user (with password and active)
        self.tokens: dict[str, str] = {}
        self.teams: dict[str, str] = {}
        self.channels: dict[tuple[str, str], str] = {}
        self.hooks: dict[str, dict] = {}
        self.ids = (f"id{n:024d}" for n in itertools.count(1))
        self.server = FakeServer(self.handle)
        self.url = self.server.url

    def _user(self, headers):
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        name = self.tokens.get(token)
        return self.users.get(name) if name else None

    def handle(self, method, path, headers, body):
        if method == "POST" and path == "/api/v4/users":
            if self.users:
                return 403, {}, {"message": "open sign-up is off"}
            user = {"id": next(self.ids), "username": body["username"], "password": body["password"],
                    "roles": "system_admin system_user", "active": True}
            self.users[body["username"]] = user
            return 201, {}, {k: v for k, v in user.items() if k != "password"}
        if method == "POST" and path == "/api/v4/users/login":
            user = self.users.get(body["login_id"])
            if not user or user["password"] != body["password"] or not user["active"]:
                return 401, {}, {"id": "api.user.login.invalid_credentials_email_username", "message": "Enter a valid"}
            token = next(self.ids)
            self.tokens[token] = user["username"]
            return 200, {"Token": token}, {k: v for k, v in user.items() if k != "password"}
        me = self._user(headers)
        if me is None:
            return 401, {}, {"message": "Invalid or expired session"}
        parts = path.split("/")
        if method == "PUT" and path.endswith("/password"):
            if body["current_password"] != me["password"]:
                return 400, {}, {"message": "current password is wrong"}
            me["password"] = body["new_password"]
            return 200, {}, {"status": "OK"}
        if method == "DELETE" and parts[3] == "users":
            user = next((u for u in self.users.values() if u["id"] == parts[4]), None)
            if user is None:
                return 404, {}, {"message": "no such user"}
            user["active"] = False
            return 200, {}, {"status": "OK"}
        if path == f"/api/v4/teams/name/{mm.TEAM_NAME}":
            return (200, {}, {"id": self.teams[mm.TEAM_NAME]}) if mm.TEAM_NAME in self.teams else (404, {}, {})
        if method == "POST" and path == "/api/v4/teams":
            self.teams[body["name"]] = next(self.ids)
            return 201, {}, {"id": self.teams[body["name"]]}
        if method == "GET" and "/channels/name/" in path:
            key = (parts[4], parts[-1])
            return (200, {}, {"id": self.channels[key]}) if key in self.channels else (404, {}, {})
        if method == "POST" and path == "/api/v4/channels":
            self.channels[(body["team_id"], body["name"])] = next(self.ids)
            return 201, {}, {"id": self.channels[(body["team_id"], body["name"])]}
        if method == "POST" and path == "/api/v4/hooks/incoming":
            hook = {"id": next(self.ids), **body}
            self.hooks[hook["id"]] = hook
            return 201, {}, hook
        if path.startswith("/api/v4/hooks/incoming/"):
            hook_id = parts[-1]
            if hook_id not in self.hooks:
                return 404, {}, {"message": "no such hook"}
            if method == "DELETE":
                del self.hooks[hook_id]
            return 200, {}, self.hooks.get(hook_id, {})
        return 501, {}, {"message": f"fake has no {method} {path}"}


@pytest.fixture
def mattermost():
    server = FakeMattermost()
    yield server
    server.server.close()


def mm_admin_props(url, password="first-admin-pw"):
    return {"url": url, "username": "itstack-admin", "email": "admin@it-stack.lab", "password": password,
            "user_id": None}


def test_mattermost_admin_create_read_update_delete(mattermost):
    p = mm.MattermostAdminProvider()
    props = mm_admin_props(mattermost.url)
    created = p.create(props)
    user_id = created.id
    assert mattermost.users["itstack-admin"]["id"] == user_id and created.outs["user_id"] == user_id
    assert p.read(user_id, created.outs).id == user_id
    new = {**created.outs, "password": "second-admin-pw"}
    assert p.diff(user_id, created.outs, new).changes
    p.update(user_id, created.outs, new)
    assert mattermost.users["itstack-admin"]["password"] == "second-admin-pw"
    p.delete(user_id, new)
    assert mattermost.users["itstack-admin"]["active"] is False


def test_mattermost_admin_diff_covers_the_url_it_connects_to(mattermost):
    p = mm.MattermostAdminProvider()
    olds = {**mm_admin_props("http://10.0.0.1:8065"), "user_id": "u1"}
    assert not p.diff("u1", olds, dict(olds)).changes
    moved = p.diff("u1", olds, {**olds, "url": "http://10.0.0.2:8065"})
    assert moved.changes and not moved.replaces  # an update that records the new address


def test_mattermost_admin_read_and_delete_raise_when_the_login_is_refused(mattermost):
    p = mm.MattermostAdminProvider()
    created = p.create(mm_admin_props(mattermost.url))
    stale = {**created.outs, "password": "not-the-password"}
    with pytest.raises(mm.MattermostAuthError) as e:
        p.read(created.id, stale)
    assert_no_secret(e.value, "not-the-password", "first-admin-pw")
    with pytest.raises(mm.MattermostAuthError):
        p.delete(created.id, stale)
    assert mattermost.users["itstack-admin"]["active"] is True  # not left behind silently: the error says so


def test_mattermost_admin_read_and_delete_raise_when_the_server_is_unreachable():
    p = mm.MattermostAdminProvider()
    props = {**mm_admin_props(closed_port_url()), "user_id": "u1"}
    for call in (lambda: p.read("u1", props), lambda: p.delete("u1", props)):
        with pytest.raises(mm.MattermostError, match="cannot reach Mattermost"):
            call()


def mm_hook_props(url, admin_password):
    return {"url": url, "public_url": "https://chat.it-stack.lab", "name": "zabbix", "channel": "ops-alerts",
            "admin_user": "itstack-admin", "admin_password": admin_password, "hook_id": None, "hook_url": None}


def test_mattermost_webhook_lifecycle_and_errors(mattermost):
    mm.MattermostAdminProvider().create(mm_admin_props(mattermost.url, "admin-pw"))
    p = mm.MattermostWebhookProvider()
    created = p.create(mm_hook_props(mattermost.url, "admin-pw"))
    assert created.id in mattermost.hooks
    assert created.outs["hook_url"] == f"https://chat.it-stack.lab/hooks/{created.id}"
    assert p.read(created.id, created.outs).id == created.id
    # The connection fields are an update (recorded), the hook's own fields a replacement.
    for field, value in (("url", "http://10.9.9.9:8065"), ("admin_user", "other"), ("admin_password", "rotated")):
        d = p.diff(created.id, created.outs, {**created.outs, field: value})
        assert d.changes and not d.replaces, field
    assert p.diff(created.id, created.outs, {**created.outs, "channel": "x"}).replaces == ["channel"]
    assert not p.diff(created.id, created.outs, dict(created.outs)).changes
    # Refused login: read and delete raise, the hook stays.
    stale = {**created.outs, "admin_password": "stale-pw"}
    for call in (lambda: p.read(created.id, stale), lambda: p.delete(created.id, stale)):
        with pytest.raises(mm.MattermostAuthError) as e:
            call()
        assert_no_secret(e.value, "stale-pw", "admin-pw")
    assert created.id in mattermost.hooks
    # Deleted behind our back: read says gone; delete of a gone hook is fine.
    p.delete(created.id, created.outs)
    assert created.id not in mattermost.hooks
    assert p.read(created.id, created.outs).id is None
    p.delete(created.id, created.outs)


def test_mattermost_webhook_update_proves_the_new_connection(mattermost):
    mm.MattermostAdminProvider().create(mm_admin_props(mattermost.url, "admin-pw"))
    p = mm.MattermostWebhookProvider()
    created = p.create(mm_hook_props(mattermost.url, "admin-pw"))
    with pytest.raises(mm.MattermostAuthError):
        p.update(created.id, created.outs, {**created.outs, "admin_password": "wrong"})
    # The same server under another name: the update logs in there and records it.
    moved = {**created.outs, "url": mattermost.url.replace("127.0.0.1", "localhost")}
    outs = p.update(created.id, created.outs, moved).outs
    assert outs["url"] == moved["url"] and outs["hook_id"] == created.outs["hook_id"]


# --------------------------------------------------------------------------------------------
# Zabbix (JSON-RPC)
# --------------------------------------------------------------------------------------------
class FakeZabbix:
    """Enough of Zabbix 7.0's JSON-RPC for the providers: login, users, hosts, media, SAML."""

    def __init__(self, admin_password=zbx.DEFAULT_PASSWORD):
        self.password = admin_password
        self.tokens: set[str] = set()
        self.hosts: dict[str, str] = {}  # host -> hostid
        self.hostgroups: dict[str, str] = {}
        self.mediatypes: dict[str, str] = {}
        self.actions: dict[str, str] = {}
        self.userdirectories: list[str] = []
        self.saml_enabled = 0
        self.ids = (str(n) for n in itertools.count(100))
        self.server = FakeServer(self.handle)
        self.url = self.server.url

    def handle(self, method, path, headers, body):
        assert path == "/api_jsonrpc.php"
        m, params = body["method"], body["params"]

        def ok(result):
            return 200, {}, {"jsonrpc": "2.0", "result": result, "id": body["id"]}

        def error(message, data):
            return 200, {}, {"jsonrpc": "2.0", "error": {"code": -32602, "message": message, "data": data},
                             "id": body["id"]}

        if m == "apiinfo.version":
            return ok("7.0.28")
        if m == "user.login":
            if params["username"] != zbx.DEFAULT_ADMIN or params["password"] != self.password:
                return error("Invalid params.", "Incorrect user name or password or account is temporarily blocked.")
            token = next(self.ids)
            self.tokens.add(token)
            return ok(token)
        if (headers.get("Authorization") or "").removeprefix("Bearer ") not in self.tokens:
            return error("Invalid params.", "Not authorized.")
        if m == "user.get":
            return ok([{"userid": "1", "medias": []}])
        if m == "user.update":
            if "passwd" in params:
                if params["current_passwd"] != self.password:
                    return error("Invalid params.", "Incorrect current password.")
                self.password = params["passwd"]
            return ok({"userids": ["1"]})
        if m in ("host.get", "hostgroup.get", "mediatype.get", "action.get"):
            table, idkey, namekey = {"host.get": (self.hosts, "hostid", "host"),
                                     "hostgroup.get": (self.hostgroups, "groupid", "name"),
                                     "mediatype.get": (self.mediatypes, "mediatypeid", "name"),
                                     "action.get": (self.actions, "actionid", "name")}[m]
            names = params["filter"].get(namekey, list(table))
            names = names if isinstance(names, list) else [names]
            return ok([{idkey: table[n]} for n in names if n in table])
        if m in ("host.create", "hostgroup.create", "mediatype.create", "action.create"):
            table, idkey, namekey = {"host.create": (self.hosts, "hostids", "host"),
                                     "hostgroup.create": (self.hostgroups, "groupids", "name"),
                                     "mediatype.create": (self.mediatypes, "mediatypeids", "name"),
                                     "action.create": (self.actions, "actionids", "name")}[m]
            table[params[namekey]] = next(self.ids)
            return ok({idkey: [table[params[namekey]]]})
        if m in ("host.delete", "mediatype.delete", "action.delete"):
            table = {"host.delete": self.hosts, "mediatype.delete": self.mediatypes, "action.delete": self.actions}[m]
            for name in [n for n, i in table.items() if i in params]:
                del table[name]
            return ok({})
        if m in ("httptest.create", "trigger.create", "item.create", "mediatype.update"):
            return ok({"ids": [next(self.ids)]})
        if m == "userdirectory.get":
            return ok([{"userdirectoryid": u, "idp_entityid": "e"} for u in self.userdirectories])
        if m == "userdirectory.delete":
            self.userdirectories = [u for u in self.userdirectories if u not in params]
            return ok({})
        if m == "authentication.update":
            self.saml_enabled = params.get("saml_auth_enabled", self.saml_enabled)
            return ok({})
        return error("Method not found.", m)


@pytest.fixture
def zabbix():
    server = FakeZabbix()
    yield server
    server.server.close()


def test_zabbix_admin_rotates_the_default_password_and_read_tells_drift_from_reset(zabbix):
    p = zbx.ZabbixAdminProvider()
    props = {"api_url": zabbix.url, "admin_password": "admin-pw-from-state"}
    p.create(props)
    assert zabbix.password == "admin-pw-from-state"
    assert p.read("zabbix-admin", props).id == "zabbix-admin"
    zabbix.password = zbx.DEFAULT_PASSWORD  # a fresh database: gone, so `up` sets it anew
    assert p.read("zabbix-admin", props).id is None
    zabbix.password = "changed-by-hand"
    with pytest.raises(zbx.ZabbixAuthError) as e:
        p.read("zabbix-admin", props)
    assert_no_secret(e.value, "admin-pw-from-state", "changed-by-hand")
    d = p.diff("zabbix-admin", props, {**props, "api_url": "http://10.0.0.9:8090"})
    assert d.changes


def monitored_host(url, password):
    return {"api_url": url, "admin_password": password, "host": "itstack-keycloak", "visible_name": "Keycloak",
            "group": "IT-Stack", "service": "keycloak", "web_checks": [], "agent": None, "description": "",
            "tcp_checks": [{"name": "Keycloak port", "address": "10.0.0.1", "port": 8080}], "hostid": None}


def test_zabbix_monitored_host_lifecycle_and_refused_logins(zabbix):
    zabbix.password = "pw"
    p = zbx.ZabbixMonitoredHostProvider()
    created = p.create(monitored_host(zabbix.url, "pw"))
    assert "itstack-keycloak" in zabbix.hosts
    assert p.read(created.id, created.outs).id == created.id
    for field, value in (("api_url", "http://10.0.0.9:8090"), ("admin_password", "rotated")):
        d = p.diff(created.id, created.outs, {**created.outs, field: value})
        assert d.changes and not d.replaces, field
    stale = {**created.outs, "admin_password": "stale"}
    for call in (lambda: p.read(created.id, stale), lambda: p.delete(created.id, stale),
                 lambda: p.update(created.id, created.outs, stale)):
        with pytest.raises(zbx.ZabbixAuthError) as e:
            call()
        assert_no_secret(e.value, "stale", "pw")
    assert "itstack-keycloak" in zabbix.hosts
    p.delete(created.id, created.outs)
    assert "itstack-keycloak" not in zabbix.hosts
    assert p.read(created.id, created.outs).id is None


def test_zabbix_saml_and_notifications_raise_on_refused_login_and_diff_the_connection(zabbix):
    zabbix.password = "pw"
    zabbix.userdirectories = ["7"]
    saml = zbx.ZabbixSamlProvider()
    props = {"api_url": zabbix.url, "admin_password": "pw", "userdirectoryid": "7"}
    assert saml.diff("saml-7", props, {**props, "userdirectoryid": None}).changes is False
    assert saml.diff("saml-7", props, {**props, "api_url": "http://other"}).changes
    stale = {**props, "admin_password": "stale"}
    for call in (lambda: saml.read("saml-7", stale), lambda: saml.delete("saml-7", stale)):
        with pytest.raises(zbx.ZabbixAuthError):
            call()
    assert zabbix.userdirectories == ["7"]
    saml.delete("saml-7", props)
    assert zabbix.userdirectories == [] and zabbix.saml_enabled == 0

    notes = zbx.ZabbixNotificationsProvider()
    nprops = {"api_url": zabbix.url, "admin_password": "pw", "zabbix_url": "https://monitor.it-stack.lab",
              "helo": "it-stack.lab", "smtp": None, "mattermost_webhook_url": "https://chat/hooks/x",
              "mattermost_channel": "ops-alerts"}
    created = notes.create(nprops)
    assert zbx.MATTERMOST_MEDIA in zabbix.mediatypes and zbx.MATTERMOST_ACTION in zabbix.actions
    assert notes.read(created.id, created.outs).id == created.id
    for field in ("api_url", "admin_password"):
        assert notes.diff(created.id, created.outs, {**created.outs, field: "x"}).changes
    nstale = {**created.outs, "admin_password": "stale"}
    for call in (lambda: notes.read(created.id, nstale), lambda: notes.delete(created.id, nstale)):
        with pytest.raises(zbx.ZabbixAuthError):
            call()
    assert zbx.MATTERMOST_MEDIA in zabbix.mediatypes
    notes.delete(created.id, created.outs)
    assert not zabbix.mediatypes and not zabbix.actions
    assert notes.read(created.id, created.outs).id is None


# --------------------------------------------------------------------------------------------
# Graylog
# --------------------------------------------------------------------------------------------
class FakeGraylog:
    """Graylog's REST API for inputs and the LDAP backend, behind HTTP basic auth as admin."""

    def __init__(self, password):
        self.password = password
        self.inputs: dict[str, dict] = {}
        self.backends: dict[str, dict] = {}
        self.active_backend = None
        self.ids = (f"{n:024x}" for n in itertools.count(1))
        self.server = FakeServer(self.handle)
        self.url = self.server.url

    def handle(self, method, path, headers, body):
        if path == "/api/system/lbstatus":
            return 200, {}, "ALIVE"
        expected = "Basic " + base64.b64encode(f"{gl.ROOT_USER}:{self.password}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"type": "ApiError", "message": "unauthorized"}
        if method != "GET" and headers.get("X-Requested-By") is None:
            return 400, {}, {"message": "CSRF protection: X-Requested-By missing"}
        if path == "/api/system/inputs":
            if method == "GET":
                return 200, {}, {"inputs": [{"id": i, **v} for i, v in self.inputs.items()]}
            new_id = next(self.ids)
            self.inputs[new_id] = body
            return 201, {}, {"id": new_id}
        if path.startswith("/api/system/inputs/"):
            input_id = path.rsplit("/", 1)[1]
            if input_id not in self.inputs:
                return 404, {}, {"message": "no such input"}
            if method == "PUT":
                self.inputs[input_id] = body
            if method == "DELETE":
                del self.inputs[input_id]
                return 204, {}, None
            return 200, {}, {"id": input_id, **self.inputs.get(input_id, {})}
        if path.startswith("/api/authz/roles"):
            return 200, {}, {"roles": [{"id": "r-reader", "name": "Reader"}]}
        if path == "/api/system/authentication/services/backends" and method == "POST":
            new_id = next(self.ids)
            self.backends[new_id] = body
            return 200, {}, {"backend": {"id": new_id}}
        if path.startswith("/api/system/authentication/services/backends/"):
            backend_id = path.rsplit("/", 1)[1]
            if backend_id not in self.backends:
                return 404, {}, {"message": "no such backend"}
            if method == "DELETE":
                if self.active_backend == backend_id:
                    return 400, {}, {"message": "backend is active"}
                del self.backends[backend_id]
                return 204, {}, None
            if method == "PUT":
                self.backends[backend_id] = body
            return 200, {}, {"backend": {"id": backend_id}}
        if path == "/api/system/authentication/services/configuration":
            self.active_backend = body["active_backend"]
            return 200, {}, {}
        return 501, {}, {"message": f"fake has no {method} {path}"}


@pytest.fixture
def graylog():
    server = FakeGraylog("root-pw")
    yield server
    server.server.close()


def test_graylog_input_lifecycle_and_refused_logins(graylog):
    p = gl.GraylogInputProvider()
    props = {"api_url": graylog.url, "root_password": "root-pw", "title": "GELF UDP",
             "input_type": "org.graylog2.inputs.gelf.udp.GELFUDPInput", "configuration": {"port": 12201}}
    created = p.create(props)
    assert graylog.inputs[created.id]["title"] == "GELF UDP"
    assert p.read(created.id, created.outs).id == created.id
    for field, value in (("api_url", "http://10.0.0.9:9000"), ("root_password", "rotated")):
        d = p.diff(created.id, created.outs, {**created.outs, field: value})
        assert d.changes and not d.replaces, field
    stale = {**created.outs, "root_password": "stale-pw"}
    for call in (lambda: p.read(created.id, stale), lambda: p.delete(created.id, stale)):
        with pytest.raises(gl.GraylogAuthError) as e:
            call()
        assert_no_secret(e.value, "stale-pw", "root-pw")
    assert created.id in graylog.inputs
    p.delete(created.id, created.outs)
    assert created.id not in graylog.inputs and p.read(created.id, created.outs).id is None


def test_graylog_ldap_backend_lifecycle_and_refused_logins(graylog):
    p = gl.GraylogLdapBackendProvider()
    props = {"api_url": graylog.url, "root_password": "root-pw", "title": "FreeIPA", "ldap_host": "ipa",
             "ldap_port": 389, "bind_dn": "uid=graylog,dc=x", "bind_password": "bind-pw", "users_dn": "cn=users,dc=x",
             "default_roles": ["Reader"], "transport_security": "none", "verify_certificates": False}
    created = p.create(props)
    assert graylog.active_backend == created.id
    assert graylog.backends[created.id]["default_roles"] == ["r-reader"]
    for field in ("api_url", "root_password"):
        assert p.diff(created.id, created.outs, {**created.outs, field: "x"}).changes
    stale = {**created.outs, "root_password": "stale-pw"}
    for call in (lambda: p.read(created.id, stale), lambda: p.delete(created.id, stale)):
        with pytest.raises(gl.GraylogAuthError) as e:
            call()
        assert_no_secret(e.value, "stale-pw", "bind-pw")
    assert created.id in graylog.backends and graylog.active_backend == created.id
    p.delete(created.id, created.outs)
    assert created.id not in graylog.backends and graylog.active_backend is None


# --------------------------------------------------------------------------------------------
# MariaDB: diff and login errors here; the real server in tests/containers/test_mariadb_provider.py
# --------------------------------------------------------------------------------------------
MARIADB = {"database": "glpi", "user": "glpi", "password": "user-pw", "admin_host": "10.0.0.1",
           "admin_port": 3306, "admin_user": "root", "admin_password": "root-pw"}


@pytest.mark.parametrize("field,value", [("admin_host", "10.0.0.2"), ("admin_port", 13306),
                                         ("admin_user", "admin"), ("admin_password", "rotated")])
def test_mariadb_diff_covers_where_and_how_it_connects(field, value):
    d = mdb.MariaDbDatabaseProvider().diff("glpi/glpi", MARIADB, {**MARIADB, field: value})
    assert d.changes and not d.replaces


def test_mariadb_diff_replaces_on_identity_and_is_quiet_otherwise():
    p = mdb.MariaDbDatabaseProvider()
    assert not p.diff("glpi/glpi", MARIADB, dict(MARIADB)).changes
    assert p.diff("glpi/glpi", MARIADB, {**MARIADB, "database": "glpi2"}).replaces == ["database"]
    assert p.diff("glpi/glpi", MARIADB, {**MARIADB, "password": "new"}).changes


def test_mariadb_read_and_delete_raise_when_the_server_is_unreachable():
    props = {**MARIADB, "admin_host": "127.0.0.1", "admin_port": int(closed_port_url().rsplit(":", 1)[1])}
    p = mdb.MariaDbDatabaseProvider()
    for call in (lambda: p.read("glpi/glpi", props), lambda: p.delete("glpi/glpi", props)):
        with pytest.raises(mdb.MariaDbAdminError, match="cannot connect") as e:
            call()
        assert_no_secret(e.value, "root-pw", "user-pw")


def test_zabbix_host_ports_are_integers_even_when_the_engine_sends_floats():
    """A dynamic provider receives every number as a float (protobuf Struct: 10050 -> 10050.0);
    Zabbix refuses "10050.0" as an interface port (seen on a real Zabbix 6.0)."""
    from components.infrastructure import zabbix_api as api

    calls = []

    class Client:
        def ensure_hostgroup(self, name):
            return "7"

        def id_of(self, method, field, filt):
            return "10001"

        def call(self, method, params):
            calls.append((method, params))
            return {"hostids": ["42"], "itemids": ["1"], "triggerids": ["1"]}

    props = {"host": "itstack-local", "visible_name": "local", "group": "IT-Stack", "service": "host",
             "agent": {"dns": "itstack-dev-zabbix-agent", "port": 10050.0, "templates": ["Linux by Zabbix agent"]},
             "tcp_checks": [{"name": "postgresql port", "address": "itstack-dev-postgresql", "port": 5432.0}]}
    api._create_host(Client(), props)
    host = next(p for m, p in calls if m == "host.create")
    assert host["interfaces"][0]["port"] == "10050"
    items = [p for m, p in calls if m == "item.create"]
    assert items and items[0]["key_"] == "net.tcp.service[tcp,itstack-dev-postgresql,5432]"
