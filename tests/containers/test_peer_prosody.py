"""The program's Jitsi token bridge (components/collaboration/files/mod_itstack_oidc.lua) in a real
Prosody (Debian's 0.12, scripts/peers), signing people in through a real Keycloak 26 (local image)
configured with the program's realm, `jitsi` client, `moderator` client role granted to the
`ipausers` group, and its `roles`/`groups` mappers.

From the dev stack under mocks: the module file Jitsi uploads into its Prosody, and the Prosody
container's env exactly as recorded (PUBLIC_URL, JWT_APP_ID/SECRET, XMPP_DOMAIN, ITSTACK_OIDC_*),
loaded on both virtual hosts like docker-jitsi-meet's XMPP_MODULES does. Keycloak runs with the
program's env, KC_HOSTNAME included (https://sso.<domain>): tokens carry the public issuer while
Prosody talks to the back channel, as in a deployment.
Rewritten, and only these: the back-channel URLs (ITSTACK_OIDC_TOKEN_URL, ..._USERINFO_URL:
http://itstack-dev-keycloak:8080 becomes the container's loopback port); the browser's view of
https://sso.<domain> is the same port over plain HTTP (no DNS or TLS here: Traefik's part, see
test_peer_traefik.py); Prosody's HTTP port is a free loopback port.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from components.collaboration import jitsi
from dockertools import docker, local_image, run_healthcheck, unique
from harness import evaluate, stack_config
from oidc_flow import admin_token, request as kc_request

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from peerproc import free_port, start, stop, tail  # noqa: E402

PROSODY = "/usr/bin/prosody"
PROSODY_CONTAINER = "itstack-dev-jitsi-prosody"


def env_of(program, container):
    return dict(e.split("=", 1) for e in program.container(container).inputs["envs"])


@pytest.fixture(scope="module")
def program():
    assert Path(PROSODY).exists(), f"{PROSODY} missing: run scripts/peers"
    return evaluate("dev", stack_config("dev"))


def _wait(ok, seconds, what):
    deadline = time.time() + seconds
    while not ok():
        assert time.time() < deadline, f"{what} not ready after {seconds}s"
        time.sleep(2)


@pytest.fixture(scope="module")
def keycloak(program):
    """PostgreSQL + Keycloak from the program's env, the Jitsi side of the realm applied by REST."""
    net = unique("itstack-peer-kc")
    names = []
    docker("network", "create", net)
    try:
        pg_env = program.container("itstack-dev-postgresql").inputs["envs"]
        pg = unique("itstack-peer-pg")
        names.append(pg)
        docker("run", "-d", "--name", pg, "--network", net, "--network-alias", "itstack-dev-postgresql",
               *sum((["-e", e] for e in pg_env), []), local_image("postgres"))
        _wait(lambda: docker("exec", pg, "pg_isready", "-h", "127.0.0.1", check=False).returncode == 0, 120, "postgres")
        role = program.named("postgresql:index/role:Role", "postgresql-keycloak-role").inputs
        db = program.named("postgresql:index/database:Database", "postgresql-keycloak-db").inputs
        for stmt in (f"CREATE ROLE {role['name']} LOGIN PASSWORD '{role['password']}'",
                     f"CREATE DATABASE {db['name']} OWNER {db['owner']} ENCODING 'UTF8' TEMPLATE template0"):
            docker("exec", pg, "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-c", stmt)
        kc_env = program.container("itstack-dev-keycloak").inputs["envs"]
        env = dict(e.split("=", 1) for e in kc_env)
        kc = unique("itstack-peer-kc")
        names.append(kc)
        port = free_port()
        docker("run", "-d", "--name", kc, "--network", net, "-p", f"127.0.0.1:{port}:8080",
               *sum((["-e", e] for e in kc_env), []), local_image("keycloak"), "start")
        health = program.container("itstack-dev-keycloak").inputs["healthcheck"]["tests"]
        _wait(lambda: run_healthcheck(kc, health), 300, "keycloak (the program's health check)")
        base = f"http://127.0.0.1:{port}"
        token = admin_token(base, env["KC_BOOTSTRAP_ADMIN_USERNAME"], env["KC_BOOTSTRAP_ADMIN_PASSWORD"])
        yield {"base": base, "public": env["KC_HOSTNAME"].rstrip("/"), "token": token, "container": kc}
    finally:
        for n in names:
            docker("rm", "-f", "-v", n, check=False)
        docker("network", "rm", net, check=False)


@pytest.fixture(scope="module")
def realm(program, keycloak):
    """The program's realm, `ipausers` group, `jitsi` client with its role and mappers, and two users."""
    base, token = keycloak["base"], keycloak["token"]
    rec = program.named("keycloak:index/realm:Realm", "realm").inputs
    kc_request("POST", f"{base}/admin/realms", {"realm": rec["realm"], "enabled": True,
                                                "sslRequired": rec["sslRequired"]}, token)
    r = f"{base}/admin/realms/{rec['realm']}"
    group = program.named("keycloak:index/group:Group", "group-ipausers").inputs
    _, h, _ = kc_request("POST", f"{r}/groups", {"name": group["name"]}, token)
    group_id = h["Location"].rsplit("/", 1)[1]

    client = program.named("keycloak:openid/client:Client", "oidc-jitsi").inputs
    assert client["accessType"] == "CONFIDENTIAL"
    _, h, _ = kc_request("POST", f"{r}/clients", {
        "clientId": client["clientId"], "name": client["name"], "protocol": "openid-connect", "publicClient": False,
        "secret": client["clientSecret"], "standardFlowEnabled": client["standardFlowEnabled"],
        "implicitFlowEnabled": client["implicitFlowEnabled"],
        "directAccessGrantsEnabled": client["directAccessGrantsEnabled"],
        "serviceAccountsEnabled": client["serviceAccountsEnabled"],
        "redirectUris": client["validRedirectUris"], "webOrigins": client["webOrigins"]}, token)
    cid = h["Location"].rsplit("/", 1)[1]
    role = program.named("keycloak:index/role:Role", "oidc-jitsi-role-moderator").inputs
    kc_request("POST", f"{r}/clients/{cid}/roles", {"name": role["name"]}, token)
    _, _, role_rep = kc_request("GET", f"{r}/clients/{cid}/roles/{role['name']}", token=token)
    grant = program.named("keycloak:index/groupRoles:GroupRoles", "oidc-jitsi-role-moderator-group").inputs
    assert grant["groupId"] == "group-ipausers-id" and grant["roleIds"] == ["oidc-jitsi-role-moderator-id"]
    kc_request("POST", f"{r}/groups/{group_id}/role-mappings/clients/{cid}", [role_rep], token)
    roles = program.named("keycloak:openid/userClientRoleProtocolMapper:UserClientRoleProtocolMapper",
                          "oidc-jitsi-roles").inputs
    kc_request("POST", f"{r}/clients/{cid}/protocol-mappers/models", {
        "name": roles["name"], "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-client-role-mapper",
        "config": {"claim.name": roles["claimName"], "multivalued": str(roles["multivalued"]).lower(),
                   "usermodel.clientRoleMapping.clientId": roles["clientIdForRoleMappings"],
                   # the provider's defaults for add_to_id_token / access_token / userinfo
                   "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true",
                   "jsonType.label": "String"}}, token)
    groups = program.named("keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper",
                           "oidc-jitsi-groups").inputs
    kc_request("POST", f"{r}/clients/{cid}/protocol-mappers/models", {
        "name": groups["name"], "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
        "config": {"claim.name": groups["claimName"], "full.path": str(groups["fullPath"]).lower(),
                   "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}}, token)
    users = {}
    for name, in_group in (("alice", True), ("bob", False)):
        _, h, _ = kc_request("POST", f"{r}/users", {
            "username": name, "enabled": True, "email": f"{name}@it-stack.lab", "emailVerified": True,
            "firstName": name.title(), "lastName": "Tester",
            "credentials": [{"type": "password", "value": f"{name}-Secret-2026", "temporary": False}]}, token)
        uid = h["Location"].rsplit("/", 1)[1]
        if in_group:
            kc_request("PUT", f"{r}/users/{uid}/groups/{group_id}", None, token)
        users[name] = {"id": uid, "password": f"{name}-Secret-2026"}
    return {"name": rec["realm"], "users": users, "client": client}


@pytest.fixture(scope="module")
def prosody(program, keycloak, realm):
    env = env_of(program, PROSODY_CONTAINER)
    uploads = {u["file"]: u["content"] for u in program.container(PROSODY_CONTAINER).inputs["uploads"]}
    module_file = f"/prosody-plugins-custom/mod_{jitsi.MODULE_NAME}.lua"
    assert env["XMPP_MODULES"] == jitsi.MODULE_NAME and module_file in uploads
    internal = "http://itstack-dev-keycloak:8080"
    for key in ("ITSTACK_OIDC_TOKEN_URL", "ITSTACK_OIDC_USERINFO_URL"):
        assert env[key].startswith(internal + "/"), (key, env[key])
        env[key] = keycloak["base"] + env[key][len(internal):]
    assert env["ITSTACK_OIDC_AUTH_URL"].startswith(keycloak["public"] + "/")

    root = Path(tempfile.mkdtemp(prefix="itp-prosody-"))
    procs = []
    try:
        plugins = root / "plugins"
        plugins.mkdir()
        (plugins / Path(module_file).name).write_text(uploads[module_file])
        (root / "data").mkdir()
        port = free_port()
        domain = env["XMPP_DOMAIN"]
        mods = ", ".join(f'"{m}"' for m in env["XMPP_MODULES"].split(","))
        (root / "prosody.cfg.lua").write_text(f"""-- the token bridge on Prosody's HTTP server, as in docker-jitsi-meet's jitsi-meet.cfg.lua
pidfile = "{root}/prosody.pid"
data_path = "{root}/data"
plugin_paths = {{ "{plugins}" }}
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = "{root}/prosody.log" }} }}
interfaces = {{ "127.0.0.1" }}
modules_disabled = {{ "c2s", "s2s" }}
http_ports = {{ {port} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
modules_enabled = {{ "http" }}
VirtualHost "{domain}"
    authentication = "anonymous"
    modules_enabled = {{ {mods} }}
VirtualHost "guest.{domain}"
    authentication = "anonymous"
    modules_enabled = {{ {mods} }}
""")
        shutil.chown(root, "prosody", "prosody")
        for p in root.rglob("*"):
            shutil.chown(p, "prosody", "prosody")
        proc = start(["/usr/sbin/runuser", "-u", "prosody", "--", PROSODY, "-F", "--config", str(root / "prosody.cfg.lua")],
                     root / "prosody.out", env={"PATH": "/usr/bin:/bin", **env})
        procs.append(proc)

        def up():
            assert proc.poll() is None, f"prosody exited: {tail(root / 'prosody.out')}{tail(root / 'prosody.log')}"
            try:
                status, _, _ = get(port, domain, "/oidc/login?room=probe")
                return status == 302
            except OSError:
                return False
        _wait(up, 30, "prosody's /oidc/login")
        yield {"port": port, "domain": domain, "env": env, "log": root / "prosody.log"}
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(root, ignore_errors=True)


def get(port, host, path, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Host": host}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode(errors="replace")
    finally:
        conn.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def keycloak_sign_in(keycloak, location, username, password) -> str:
    """A browser at the bridge's redirect: Keycloak's login form, then the redirect it answers with."""
    assert location.startswith(keycloak["public"] + "/"), location
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(keycloak["base"] + location[len(keycloak["public"]):], timeout=60).read().decode()
    action = urllib.parse.urlsplit(html.unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page).group(1)))
    for c in jar:  # Secure cookies of https://sso.<domain>, here on plain loopback HTTP
        c.secure = False
    req = urllib.request.Request(f"{keycloak['base']}{action.path}?{action.query}",
                                 data=urllib.parse.urlencode({"username": username, "password": password}).encode())
    try:
        opener.open(req, timeout=60)
    except urllib.error.HTTPError as e:
        assert e.code == 302, e.read()[:300]
        return e.headers["Location"]
    raise AssertionError("Keycloak did not redirect after the login form")


def sign_in(prosody, keycloak, user, password, room="Team.Standup"):
    """/oidc/login -> Keycloak -> /oidc/callback; returns the callback's (status, headers, body)."""
    status, headers, _ = get(prosody["port"], prosody["domain"], f"/oidc/login?room={urllib.parse.quote(room)}")
    assert status == 302
    cookie = headers["set-cookie"].split(";", 1)[0]
    back = keycloak_sign_in(keycloak, headers["location"], user, password)
    public = prosody["env"]["PUBLIC_URL"].rstrip("/")
    assert back.startswith(f"{public}/oidc/callback?"), back
    return get(prosody["port"], prosody["domain"], back[len(public):], cookie=cookie)


def _b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_login_redirects_to_the_programs_keycloak_client(prosody, realm):
    status, headers, _ = get(prosody["port"], prosody["domain"], "/oidc/login?room=abc")
    assert status == 302
    url = urllib.parse.urlsplit(headers["location"])
    q = urllib.parse.parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == prosody["env"]["ITSTACK_OIDC_AUTH_URL"]
    assert q["client_id"] == [realm["client"]["clientId"]] and q["response_type"] == ["code"]
    # The bridge's callback is one of the client's registered redirect URIs.
    assert q["redirect_uri"][0] in realm["client"]["validRedirectUris"]
    assert "HttpOnly" in headers["set-cookie"] and "Secure" in headers["set-cookie"]


def test_a_moderator_gets_a_jitsi_token_prosody_would_accept(prosody, keycloak, realm):
    status, headers, body = sign_in(prosody, keycloak, "alice", realm["users"]["alice"]["password"])
    assert status == 302, (body, tail(prosody["log"]))
    env = prosody["env"]
    target = urllib.parse.urlsplit(headers["location"])
    assert f"{target.scheme}://{target.netloc}" == env["PUBLIC_URL"].rstrip("/") and target.path == "/team.standup"
    (jwt,) = urllib.parse.parse_qs(target.query)["jwt"]
    header, payload, sig = jwt.split(".")
    assert json.loads(_b64(header)) == {"alg": "HS256", "typ": "JWT"}
    # Signed with the JWT_APP_SECRET the program gives Prosody's token authentication.
    want = hmac.new(env["JWT_APP_SECRET"].encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_b64(sig), want)
    claims = json.loads(_b64(payload))
    assert claims["iss"] in env["JWT_ACCEPTED_ISSUERS"].split(",") and claims["aud"] in env["JWT_ACCEPTED_AUDIENCES"].split(",")
    assert claims["iss"] == env["JWT_APP_ID"] and claims["sub"] == env["XMPP_DOMAIN"] and claims["room"] == "team.standup"
    assert claims["nbf"] <= time.time() < claims["exp"]
    user = claims["context"]["user"]
    assert user["id"] == realm["users"]["alice"]["id"] and user["email"] == "alice@it-stack.lab"
    assert user["name"] == "Alice Tester"


def test_a_user_without_the_moderator_role_is_refused(prosody, keycloak, realm):
    status, headers, body = sign_in(prosody, keycloak, "bob", realm["users"]["bob"]["password"])
    assert status == 403 and "jwt=" not in headers.get("location", ""), body


def test_a_callback_without_its_browser_state_is_refused(prosody, keycloak, realm):
    status, headers, _ = get(prosody["port"], prosody["domain"], "/oidc/login?room=x")
    back = keycloak_sign_in(keycloak, headers["location"], "alice", realm["users"]["alice"]["password"])
    public = prosody["env"]["PUBLIC_URL"].rstrip("/")
    status, _, _ = get(prosody["port"], prosody["domain"], back[len(public):], cookie="itstack_oidc_state=forged")
    assert status == 400


def test_the_bridge_serves_the_main_host_only(prosody):
    status, _, _ = get(prosody["port"], f"guest.{prosody['domain']}", "/oidc/login?room=x")
    assert status == 404
