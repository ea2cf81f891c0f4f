"""A real browser sign-in (issue 13, item 4): Debian's Chromium, driven by playwright-core
(tests/browser/login.js), against the real Keycloak, PostgreSQL and 389-ds that conftest.py sets up
from the program's recorded inputs.

"The app" is a small relying party this test runs on loopback in its own thread: it stands in for
Nextcloud's user_oidc with the program's Nextcloud client id, secret and first redirect URI, and
applies the group rule the program writes into Nextcloud's start hook (`--mapping-groups=<claim>`,
`--group-whitelist-regex=<re>`). Chromium reaches it under the program's own host name
(cloud.<domain>) through --host-resolver-rules, over TLS with a throw-away certificate, and reaches
Keycloak on its loopback URL (KC_HOSTNAME, the deviation the identity contract states).

A directory user opens the app URL, lands on Keycloak's login page, signs in, and comes back to the
app, which shows the groups it derived from the token: exactly those the program's client roles
grant to the user's directory groups. A wrong password is shown Keycloak's error and never reaches
the app. On failure, the browser's last page is kept as a PNG; the message names the directory."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dockertools import docker
from oidc_flow import claims as _claims, request as _request

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ITSTACK_CACHE", "/var/cache/itstack"))
NODE_MODULES = CACHE / "browser" / "node_modules"  # scripts/test-deps: npm ci of tests/browser's lockfile
ARTIFACTS = CACHE / "artifacts" / "browser-login"
DRIVER = ROOT / "tests" / "browser" / "login.js"
CHROMIUM = "/usr/bin/chromium"

# The directory user of this test, FreeIPA-shaped: FreeIPA puts every user in ipausers.
USER, PASSWORD = "carol", "Carol-Secret-2026"
DIRECTORY_GROUPS = ("ipausers", "admins", "developers")


def _nextcloud_rule(program) -> tuple[str, str]:
    """(claim, whitelist regex) from the start hook the program uploads into Nextcloud."""
    hook = next(u["content"] for u in program.container("itstack-dev-nextcloud").inputs["uploads"]
                if u["file"].endswith("10-itstack.sh"))
    claim = re.search(r"'--mapping-groups=([^']*)'", hook).group(1)
    whitelist = re.search(r"'--group-whitelist-regex=([^']*)'", hook).group(1)
    return claim, whitelist


def _client_roles(program) -> dict[str, str]:
    """{client role: directory group} of the Nextcloud client, from the recorded Role/GroupRoles."""
    client_key = program.named("keycloak:openid/client:Client", "oidc-nextcloud")
    roles = {f"{r.name}-id": r.inputs["name"] for r in program.of_type("keycloak:index/role:Role")
             if r.inputs["clientId"] == f"{client_key.name}-id"}
    groups = {f"{g.name}-id": g.inputs["name"] for g in program.of_type("keycloak:index/group:Group")}
    out = {}
    for gr in program.of_type("keycloak:index/groupRoles:GroupRoles"):
        for role_id in gr.inputs["roleIds"]:
            if role_id in roles:
                out[roles[role_id]] = groups[gr.inputs["groupId"]]
    assert out, "the program grants no client role of the Nextcloud client"
    return out


@pytest.fixture(scope="module")
def roles_applied(program, configured):
    """The Nextcloud client's roles, their group grants and the roles mapper, as the keycloak
    provider would create them from the recorded inputs; then the test's directory user."""
    r, token = configured["r"], configured["token"]
    _, _, found = _request("GET", f"{r}/clients?clientId={configured['client']['clientId']}", token=token)
    cid = found[0]["id"]
    for role, group in _client_roles(program).items():
        _request("POST", f"{r}/clients/{cid}/roles", {"name": role}, token)
        _, _, rep = _request("GET", f"{r}/clients/{cid}/roles/{role}", token=token)
        _, _, existing = _request("GET", f"{r}/groups?search={group}&exact=true", token=token)
        if not existing:  # the program pre-creates every granted group (keycloak.group())
            _request("POST", f"{r}/groups", {"name": group}, token)
            _, _, existing = _request("GET", f"{r}/groups?search={group}&exact=true", token=token)
        _request("POST", f"{r}/groups/{existing[0]['id']}/role-mappings/clients/{cid}", [rep], token)
    mapper = program.named("keycloak:openid/userClientRoleProtocolMapper:UserClientRoleProtocolMapper",
                           "oidc-nextcloud-roles").inputs
    _request("POST", f"{r}/clients/{cid}/protocol-mappers/models", {
        "name": mapper["name"], "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-client-role-mapper",
        "config": {"claim.name": mapper["claimName"], "multivalued": str(mapper["multivalued"]).lower(),
                   "usermodel.clientRoleMapping.clientId": mapper["clientIdForRoleMappings"],
                   "jsonType.label": "String", "id.token.claim": "true", "access.token.claim": "true",
                   "userinfo.token.claim": "true"}}, token)
    docker("exec", "itstack-contract-389ds", "ds-add-user", USER, PASSWORD, "Carol", "Example",
           f"{USER}@it-stack.test", *DIRECTORY_GROUPS)
    _request("POST", f"{r}/user-storage/{configured['federation_id']}/sync?action=triggerFullSync", {}, token)
    _request("POST", f"{r}/user-storage/{configured['federation_id']}/mappers/{configured['group_mapper_id']}"
                     "/sync?direction=fedToKeycloak", {}, token)
    return configured


class _App(BaseHTTPRequestHandler):
    """Nextcloud's user_oidc in miniature: `/` sends the browser to the IdP; the redirect path
    exchanges the code with the client secret (server side) and shows the user's groups."""

    app: dict  # set on the subclass per server

    def log_message(self, *args):  # keep the lane's output to what fails
        pass

    def _send(self, status, body="", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        data = body.encode()
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        a = self.app
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            state, nonce = os.urandom(12).hex(), os.urandom(12).hex()
            a["pending"][state] = nonce
            query = urllib.parse.urlencode({"client_id": a["client_id"], "response_type": "code",
                                            "scope": "openid email profile", "redirect_uri": a["redirect"],
                                            "state": state, "nonce": nonce})
            return self._send(302, headers=[("Location", f"{a['discovery']['authorization_endpoint']}?{query}")])
        if url.path == a["callback_path"]:
            q = urllib.parse.parse_qs(url.query)
            nonce = a["pending"].pop(q.get("state", [""])[0], None)
            if nonce is None or "code" not in q:
                return self._send(400, "<h1>Sign-in failed</h1><p>unknown state or no code</p>")
            _, _, tokens = _request("POST", a["discovery"]["token_endpoint"],
                                    {"grant_type": "authorization_code", "code": q["code"][0],
                                     "redirect_uri": a["redirect"], "client_id": a["client_id"],
                                     "client_secret": a["client_secret"]}, form=True)
            c = _claims(tokens["id_token"])
            if c.get("nonce") != nonce or c.get("aud") != a["client_id"] or c.get("iss") != a["discovery"]["issuer"]:
                return self._send(400, "<h1>Sign-in failed</h1><p>token not for this app</p>")
            groups = sorted(g for g in c.get(a["claim"], []) if re.search(a["whitelist"], g))
            a["logins"].append({"user": c["preferred_username"], "groups": groups, "claims": c})
            return self._send(200, f"<title>Signed in</title><h1>Signed in as {html.escape(c['preferred_username'])}</h1>"
                                   f"<p id='groups'>Groups: {html.escape(', '.join(groups))}</p>")
        return self._send(404, "<h1>not found</h1>")


@pytest.fixture(scope="module")
def app(program, roles_applied, tmp_path_factory):
    client = roles_applied["client"]
    redirect = client["validRedirectUris"][0]
    parts = urllib.parse.urlsplit(redirect)
    assert parts.scheme == "https", redirect
    claim, whitelist = _nextcloud_rule(program)
    _, _, discovery = _request(
        "GET", f"{roles_applied['base']}/realms/{roles_applied['realm']}/.well-known/openid-configuration")
    # A throw-away certificate for the program's host name; Chromium is told to accept it.
    tls = tmp_path_factory.mktemp("app-tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={parts.hostname}", "-addext", f"subjectAltName=DNS:{parts.hostname}",
                    "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem")], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls / "cert.pem", tls / "key.pem")
    state = {"client_id": client["clientId"], "client_secret": client["clientSecret"], "redirect": redirect,
             "callback_path": parts.path, "discovery": discovery, "claim": claim, "whitelist": whitelist,
             "pending": {}, "logins": []}
    handler = type("App", (_App,), {"app": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # loopback only
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {**state, "origin": f"https://{parts.hostname}", "url": f"https://{parts.hostname}/",
               "host_rules": f"MAP {parts.hostname} 127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()


def _browser(app, username, password, name) -> tuple[dict, Path]:
    """Run tests/browser/login.js once; (what the browser saw, the artifacts dir)."""
    assert Path(CHROMIUM).exists(), f"no {CHROMIUM}: scripts/test-deps installs Debian's chromium"
    assert (NODE_MODULES / "playwright-core").is_dir(), f"no {NODE_MODULES}/playwright-core: run scripts/test-deps"
    out_dir = ARTIFACTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out_dir.mkdir(parents=True, exist_ok=True)
    job = {"appUrl": app["url"], "appOrigin": app["origin"], "hostRules": app["host_rules"],
           "username": username, "password": password, "screenshot": str(out_dir / "last-page.png")}
    # Own session: if node hangs, the whole group (Chromium included) is ended, nothing outlives us.
    proc = subprocess.Popen(["node", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    try:
        stdout, stderr = proc.communicate(json.dumps(job), timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"the browser driver hung for 180 s; its last page may be in {out_dir}")
    assert proc.returncode == 0, f"browser driver failed ({proc.returncode}): {stderr[-2000:]}; see {out_dir}"
    (out_dir / "seen.json").write_text(stdout)
    return json.loads(stdout), out_dir


def _checked(out_dir: Path, check) -> None:
    """Run the assertions; keep the screenshot only when they fail, and say where it is."""
    try:
        check()
    except AssertionError as e:
        raise AssertionError(f"{e}\nbrowser screenshot and what it saw: {out_dir}") from None
    shutil.rmtree(out_dir, ignore_errors=True)


def test_directory_user_signs_in_through_keycloak_and_gets_the_apps_groups(program, app, roles_applied):
    before = len(app["logins"])
    seen, out_dir = _browser(app, USER, PASSWORD, "sign-in")
    expected = sorted(role for role, group in _client_roles(program).items()
                      if group in DIRECTORY_GROUPS and re.search(app["whitelist"], role))

    def check():
        assert "failure" not in seen, seen.get("failure")
        login = urllib.parse.urlsplit(seen["loginPage"]["url"])
        # Keycloak's own login page of the program's realm, not the app's.
        assert f"{login.scheme}://{login.netloc}" == roles_applied["base"], seen["loginPage"]
        assert login.path.startswith(f"/realms/{roles_applied['realm']}/"), seen["loginPage"]
        assert seen["final"]["url"].startswith(app["redirect"]), seen["final"]
        assert seen["error"] is None, seen["error"]
        assert len(app["logins"]) == before + 1, "the app saw no completed sign-in"
        login_ = app["logins"][-1]
        assert login_["user"] == USER
        assert expected and login_["groups"] == expected, (login_["groups"], expected)
        # The page the user sees says so, and nothing the whitelist drops (e.g. developers).
        assert f"Signed in as {USER}" in seen["final"]["text"]
        assert f"Groups: {', '.join(expected)}" in seen["final"]["text"], seen["final"]["text"]
        assert "developers" in login_["claims"]["groups"] and "developers" not in login_["groups"]

    _checked(out_dir, check)


def test_wrong_password_is_shown_keycloaks_error(app, roles_applied):
    before = len(app["logins"])
    seen, out_dir = _browser(app, USER, "not-carols-password", "wrong-password")

    def check():
        assert "failure" not in seen, seen.get("failure")
        assert seen["final"]["url"].startswith(roles_applied["base"]), seen["final"]["url"]
        assert seen["error"] and "Invalid username or password" in seen["error"], seen.get("error")
        assert len(app["logins"]) == before, "the app saw a sign-in with a wrong password"

    _checked(out_dir, check)
