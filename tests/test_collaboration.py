"""The collaboration tier under mocks: Nextcloud, Mattermost and Jitsi get their own database,
Redis, Keycloak client, mailbox and route, with real health checks, and their secrets stay secret."""
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import evaluate, stack_config
from components.collaboration import jitsi as jitsi_mod
from components.collaboration import mattermost_admin as mm_api
from components.collaboration import nextcloud as nc_mod

PASSWORD = "random:index/randomPassword:RandomPassword"
ROLE = "postgresql:index/role:Role"
CLIENT = "keycloak:openid/client:Client"
DYNAMIC = "pulumi-python:dynamic:Resource"
COLLAB = ("nextcloud", "mattermost", "jitsi")


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


@pytest.fixture(scope="module")
def without_sso_and_mail():
    raw = {**stack_config("dev"), "integrations": {"disabled": [
        "sso:keycloak->nextcloud", "sso:keycloak->mattermost", "sso:keycloak->jitsi",
        "email:iredmail->nextcloud", "email:iredmail->mattermost"]}}
    return evaluate("dev", raw)


def pw(name):
    """The mocked RandomPassword result (harness.Mocks derives it from the resource name)."""
    return f"pw-{hashlib.sha256(name.encode()).hexdigest()[:24]}"


def env_of(c):
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def uploads_of(c):
    return {u["file"]: u for u in c.inputs.get("uploads") or []}


def checks(c):
    return " ".join(c.inputs["healthcheck"]["tests"])


def containers_of(ev, service):
    return [c for c in ev.containers() if c.inputs["labels"][0]["value"] == service]


def other_db_passwords(ev, own):
    return {r.inputs["password"] for r in ev.of_type(ROLE) if r.inputs["name"] != f"{own}_user"}


def routes(ev, stack="dev"):
    t = ev.container(f"itstack-{stack}-traefik")
    return json.loads(uploads_of(t)["/etc/traefik/dynamic.yml"]["content"])["http"]


def secret_of_client(ev, client_id):
    return ev.named(CLIENT, f"oidc-{client_id}").inputs["clientSecret"]


# ---------------------------------------------------------------- Nextcloud


def test_nextcloud_uses_its_own_postgresql_database_only(dev):
    nc = dev.container("itstack-dev-nextcloud")
    env = env_of(nc)
    role = dev.named(ROLE, "postgresql-nextcloud-role")
    assert env["POSTGRES_HOST"] == "itstack-dev-postgresql:5432"
    assert env["POSTGRES_DB"] == "nextcloud" and env["POSTGRES_USER"] == "nextcloud_user"
    assert env["POSTGRES_PASSWORD"] == role.inputs["password"]
    assert not other_db_passwords(dev, "nextcloud") & set(env.values())
    nets = {n["name"] for n in nc.inputs["networksAdvanced"]}
    assert "itstack-dev-data" in nets


def test_nextcloud_redis_is_its_acl_user_and_logical_database(dev):
    nc = dev.container("itstack-dev-nextcloud")
    env, files = env_of(nc), uploads_of(nc)
    cfg = files[nc_mod.CONFIG_SRC]["content"]
    assert "'user' => 'nextcloud'" in cfg and "'dbindex' => 1," in cfg
    assert "'host' => 'itstack-dev-redis'" in cfg and "getenv('ITSTACK_REDIS_PASSWORD')" in cfg
    # The password in the env is the one whose hash the Redis ACL file holds for user nextcloud.
    acl = uploads_of(dev.container("itstack-dev-redis"))["/usr/local/etc/redis/users.acl"]["content"]
    digest = hashlib.sha256(env["ITSTACK_REDIS_PASSWORD"].encode()).hexdigest()
    assert f"user nextcloud on #{digest} " in acl
    session = files[nc_mod.SESSION_INI]["content"]
    assert f"auth[]=nextcloud&auth[]={env['ITSTACK_REDIS_PASSWORD']}&database=1" in session
    # The image's own Redis variables (no db index) stay unset.
    assert "REDIS_HOST" not in env


def test_nextcloud_oidc_client_secret_and_user_oidc_hook(dev):
    nc = dev.container("itstack-dev-nextcloud")
    env, files = env_of(nc), uploads_of(nc)
    assert env["ITSTACK_OIDC_CLIENT_SECRET"] == secret_of_client(dev, "nextcloud")
    assert env["ITSTACK_OIDC_CLIENT_SECRET"] != secret_of_client(dev, "mattermost")
    hook = files[nc_mod.HOOK]
    # Root-owned, run by www-data (the entrypoint's `su -p www-data`): others need read and execute.
    assert int(hook["permissions"], 8) & 0o005 == 0o005
    script = hook["content"]
    assert "'--clientid=nextcloud'" in script and "--clientsecret-env=ITSTACK_OIDC_CLIENT_SECRET" in script
    # Discovery over Keycloak's back channel on the identity network.
    assert "'--discoveryuri=http://itstack-dev-keycloak:8080/realms/it-stack/.well-known/openid-configuration'" in script
    assert "'--mapping-groups=roles'" in script and "'--group-provisioning=1'" in script
    assert env["ITSTACK_OIDC_CLIENT_SECRET"] not in script
    client = dev.named(CLIENT, "oidc-nextcloud")
    assert client.inputs["validRedirectUris"] == [
        "https://cloud.it-stack.lab/apps/user_oidc/code", "https://cloud.it-stack.lab/index.php/apps/user_oidc/code"]
    assert "itstack-dev-identity" in {n["name"] for n in nc.inputs["networksAdvanced"]}


def test_nextcloud_admin_role_maps_to_the_directory_admins(dev):
    for role, group in nc_mod.ROLE_GROUPS.items():
        r = dev.named("keycloak:index/role:Role", f"oidc-nextcloud-role-{role}")
        assert r.inputs["name"] == role
        grant = dev.named("keycloak:index/groupRoles:GroupRoles", f"oidc-nextcloud-role-{role}-group")
        assert grant.inputs["groupId"] == dev.named("keycloak:index/group:Group", f"group-{group}").name + "-id"
    assert nc_mod.ROLE_GROUPS["admin"] == "admins"  # Nextcloud's own administrators group is "admin"
    script = uploads_of(dev.container("itstack-dev-nextcloud"))[nc_mod.HOOK]["content"]
    assert "'--group-whitelist-regex=^(admin|users)$'" in script


def test_nextcloud_mail_uses_its_own_mailbox(dev):
    env = env_of(dev.container("itstack-dev-nextcloud"))
    assert env["SMTP_NAME"] == "nextcloud@it-stack.lab" and env["SMTP_PORT"] == "587"
    assert env["SMTP_PASSWORD"] == pw("iredmail-nextcloud-mailbox-password")
    assert env["MAIL_FROM_ADDRESS"] == "nextcloud" and env["MAIL_DOMAIN"] == "it-stack.lab"


def test_nextcloud_health_route_and_cron(dev):
    nc = dev.container("itstack-dev-nextcloud")
    assert "/status.php" in checks(nc) and '"installed":true' in checks(nc)
    r = routes(dev)
    assert r["routers"]["nextcloud"]["rule"] == "Host(`cloud.it-stack.lab`)"
    assert r["services"]["nextcloud"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-nextcloud:80"
    cron = dev.container("itstack-dev-nextcloud-cron")
    assert cron.inputs["command"] == ["/cron.sh"]
    assert cron.inputs["volumes"] == nc.inputs["volumes"]
    assert dev.before(nc.urn, cron.urn)
    assert dev.named("docker:index/volume:Volume", "nextcloud-html").inputs["name"] == "itstack-dev-nextcloud-html"


# ---------------------------------------------------------------- Mattermost


def test_mattermost_uses_its_own_postgresql_database_only(dev):
    env = env_of(dev.container("itstack-dev-mattermost"))
    role = dev.named(ROLE, "postgresql-mattermost-role")
    assert env["MM_SQLSETTINGS_DRIVERNAME"] == "postgres"
    assert env["MM_SQLSETTINGS_DATASOURCE"] == (
        f"postgres://mattermost_user:{role.inputs['password']}@itstack-dev-postgresql:5432/mattermost"
        "?sslmode=disable&connect_timeout=10")
    assert not any(p in env["MM_SQLSETTINGS_DATASOURCE"] for p in other_db_passwords(dev, "mattermost"))


def test_mattermost_sso_is_keycloak_as_a_gitlab_provider(dev):
    env = env_of(dev.container("itstack-dev-mattermost"))
    assert env["MM_GITLABSETTINGS_ENABLE"] == "true"
    assert env["MM_GITLABSETTINGS_ID"] == "mattermost"
    assert env["MM_GITLABSETTINGS_SECRET"] == secret_of_client(dev, "mattermost")
    assert env["MM_GITLABSETTINGS_AUTHENDPOINT"] == "https://sso.it-stack.lab/realms/it-stack/protocol/openid-connect/auth"
    assert env["MM_GITLABSETTINGS_TOKENENDPOINT"] == \
        "http://itstack-dev-keycloak:8080/realms/it-stack/protocol/openid-connect/token"
    assert env["MM_GITLABSETTINGS_USERAPIENDPOINT"].endswith("/protocol/openid-connect/userinfo")
    assert "openid" in env["MM_GITLABSETTINGS_SCOPE"].split()
    assert env["MM_SERVICESETTINGS_SITEURL"] == "https://chat.it-stack.lab"
    client = dev.named(CLIENT, "oidc-mattermost")
    assert client.inputs["validRedirectUris"] == ["https://chat.it-stack.lab/signup/gitlab/complete"]
    # userinfo gets GitLab's `id` (a number, from FreeIPA's uidNumber) and `username`.
    gid = dev.named("keycloak:openid/userAttributeProtocolMapper:UserAttributeProtocolMapper", "oidc-mattermost-gitlab-id")
    assert gid.inputs["claimName"] == "id" and gid.inputs["claimValueType"] == "long"
    assert gid.inputs["userAttribute"] == "uidNumber" and gid.inputs["addToUserinfo"] is True
    assert gid.inputs["clientId"] == "oidc-mattermost-id"
    ldap = dev.named("keycloak:ldap/userAttributeMapper:UserAttributeMapper", "freeipa-uidnumber")
    assert ldap.inputs["ldapAttribute"] == "uidNumber" and ldap.inputs["userModelAttribute"] == "uidNumber"
    assert ldap.inputs["ldapUserFederationId"] == "freeipa-federation-id"
    uname = dev.named("keycloak:openid/userPropertyProtocolMapper:UserPropertyProtocolMapper",
                      "oidc-mattermost-gitlab-username")
    assert uname.inputs["claimName"] == "username" and uname.inputs["userProperty"] == "username"


def test_mattermost_mail_health_route(dev):
    mm = dev.container("itstack-dev-mattermost")
    env = env_of(mm)
    assert env["MM_EMAILSETTINGS_SMTPUSERNAME"] == "mattermost@it-stack.lab"
    assert env["MM_EMAILSETTINGS_SMTPPASSWORD"] == pw("iredmail-mattermost-mailbox-password")
    assert env["MM_EMAILSETTINGS_CONNECTIONSECURITY"] == "STARTTLS"
    assert "/api/v4/system/ping" in checks(mm) and '"status":"OK"' in checks(mm)
    r = routes(dev)
    assert r["routers"]["mattermost"]["rule"] == "Host(`chat.it-stack.lab`)"
    assert r["services"]["mattermost"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-mattermost:8065"


def test_mattermost_first_admin_is_created_by_the_stack_after_the_server_answers(dev):
    mm = dev.container("itstack-dev-mattermost")
    admin = dev.named(DYNAMIC, "mattermost-first-admin")
    assert admin.inputs["username"] == "itstack-admin"
    assert admin.inputs["password"] == pw("mattermost-admin-password")
    assert "password" in admin.secret_inputs
    port = mm.inputs["ports"][0]
    assert admin.inputs["url"] == f"http://127.0.0.1:{int(port['external'])}" and port["internal"] == 8065
    assert dev.before(mm.urn, admin.urn)


def test_zabbix_alerts_get_a_secret_mattermost_webhook(dev):
    if "zabbix" not in dev.settings.services:
        pytest.skip("zabbix disabled")
    hook = dev.named(DYNAMIC, "mattermost-hook-zabbix-ops-alerts")
    assert hook.inputs["channel"] == "ops-alerts" and hook.inputs["public_url"] == "https://chat.it-stack.lab"
    assert "admin_password" in hook.secret_inputs
    assert "hook_url" in hook.additional_secret_outputs
    assert dev.before(dev.named(DYNAMIC, "mattermost-first-admin").urn, hook.urn)


# ---------------------------------------------------------------- Jitsi


def test_jitsi_four_containers_share_the_tier_network(dev):
    names = {c.inputs["name"] for c in containers_of(dev, "jitsi")}
    assert names == {f"itstack-dev-jitsi-{r}" for r in ("web", "prosody", "jicofo", "jvb")}
    for c in containers_of(dev, "jitsi"):
        assert "itstack-dev-collaboration" in {n["name"] for n in c.inputs["networksAdvanced"]}
        # web reaches Prosody through its BOSH URL; the others read XMPP_SERVER.
        server = env_of(c).get("XMPP_SERVER") or env_of(c)["XMPP_BOSH_URL_BASE"].split("//")[1].split(":")[0]
        assert server == "itstack-dev-jitsi-prosody"


def test_jitsi_jwt_auth_and_the_keycloak_token_bridge(dev):
    prosody = dev.container("itstack-dev-jitsi-prosody")
    web = dev.container("itstack-dev-jitsi-web")
    jicofo = dev.container("itstack-dev-jitsi-jicofo")
    penv, wenv = env_of(prosody), env_of(web)
    for env in (penv, env_of(jicofo)):
        assert env["ENABLE_AUTH"] == "1" and env["AUTH_TYPE"] == "jwt"
    # The web image reads no AUTH_TYPE: ENABLE_AUTH and TOKEN_AUTH_URL drive its login.
    assert wenv["ENABLE_AUTH"] == "1" and "AUTH_TYPE" not in wenv
    assert penv["JWT_APP_SECRET"] == pw("jitsi-jwt-app-secret")
    assert penv["JWT_ACCEPTED_ISSUERS"] == penv["JWT_APP_ID"] == penv["JWT_ACCEPTED_AUDIENCES"]
    assert penv["ITSTACK_OIDC_CLIENT_SECRET"] == secret_of_client(dev, "jitsi")
    assert penv["ITSTACK_OIDC_TOKEN_URL"].startswith("http://itstack-dev-keycloak:8080/realms/it-stack/")
    assert penv["XMPP_MODULES"] == jitsi_mod.MODULE_NAME
    module = uploads_of(prosody)[f"/prosody-plugins-custom/mod_{jitsi_mod.MODULE_NAME}.lua"]["content"]
    assert module == jitsi_mod.bridge_module() and '["GET /callback"]' in module
    assert wenv["TOKEN_AUTH_URL"] == "https://meet.it-stack.lab/oidc/login?room={room}"
    nginx = uploads_of(web)[jitsi_mod.NGINX_CONF]["content"]
    assert "proxy_pass http://itstack-dev-jitsi-prosody:5280/oidc/;" in nginx
    client = dev.named(CLIENT, "oidc-jitsi")
    assert client.inputs["validRedirectUris"] == ["https://meet.it-stack.lab/oidc/callback"]
    dev.named("keycloak:index/role:Role", "oidc-jitsi-role-moderator")
    # The JWT secret and XMPP passwords are only where they are needed.
    assert "JWT_APP_SECRET" not in wenv and "JWT_APP_SECRET" not in env_of(jicofo)
    assert env_of(jicofo)["JICOFO_AUTH_PASSWORD"] == penv["JICOFO_AUTH_PASSWORD"]
    assert env_of(dev.container("itstack-dev-jitsi-jvb"))["JVB_AUTH_PASSWORD"] == penv["JVB_AUTH_PASSWORD"]


def test_jitsi_media_udp_on_the_host_address_and_advertised(dev, prod):
    for ev, stack, addr in ((dev, "dev", "127.0.0.1"), (prod, "prod", "10.0.50.13")):
        jvb = ev.container(f"itstack-{stack}-jitsi-jvb")
        udp = [p for p in jvb.inputs["ports"] if p.get("protocol") == "udp"]
        published = ev.settings.host_of("jitsi").port_offset + 10000
        assert udp == [{"internal": 10000, "external": published, "ip": addr, "protocol": "udp"}]
        expected = addr if published == 10000 else f"{addr}#{published}"
        assert env_of(jvb)["JVB_ADVERTISE_IPS"] == expected


def test_jitsi_health_checks_and_route(dev):
    hc = {r: checks(dev.container(f"itstack-dev-jitsi-{r}")) for r in ("web", "prosody", "jicofo", "jvb")}
    assert "5280/health" in hc["prosody"] and "8888/about/health" in hc["jicofo"]
    assert "8080/about/health" in hc["jvb"] and "127.0.0.1:80/" in hc["web"]
    r = routes(dev)
    assert r["routers"]["jitsi"]["rule"] == "Host(`meet.it-stack.lab`)"
    assert r["services"]["jitsi"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-jitsi-web:80"


# ---------------------------------------------------------------- all three


def test_collaboration_secrets_stay_secret(dev):
    for svc in COLLAB:
        for c in containers_of(dev, svc):
            assert "envs" in c.secret_inputs, c.inputs["name"]
            if c.inputs.get("uploads"):
                assert "uploads" in c.secret_inputs, c.inputs["name"]
            for label in c.inputs["labels"]:
                assert not str(label["value"]).startswith("pw-")
    for cid in COLLAB:
        assert "clientSecret" in dev.named(CLIENT, f"oidc-{cid}").secret_inputs


def test_prod_places_the_tier_on_lab_app1_and_reaches_data_and_sso_by_address(prod):
    for svc in COLLAB:
        cs = containers_of(prod, svc)
        assert cs and all("docker-lab-app1" in c.provider for c in cs), svc
    nc = env_of(prod.container("itstack-prod-nextcloud"))
    assert nc["POSTGRES_HOST"] == "10.0.50.12:5432"
    script = uploads_of(prod.container("itstack-prod-nextcloud"))[nc_mod.HOOK]["content"]
    assert "--discoveryuri=http://10.0.50.11:8080/realms/it-stack/" in script
    assert "'host' => '10.0.50.12'" in uploads_of(prod.container("itstack-prod-nextcloud"))[nc_mod.CONFIG_SRC]["content"]
    mm = env_of(prod.container("itstack-prod-mattermost"))
    assert "@10.0.50.12:5432/mattermost?" in mm["MM_SQLSETTINGS_DATASOURCE"]
    r = routes(prod, "prod")
    assert r["services"]["nextcloud"]["loadBalancer"]["servers"][0]["url"] == "http://10.0.50.13:80"


def test_integrations_are_recorded(dev):
    ids = {i["id"] for i in dev.platform.integrations.applied()}
    for svc in COLLAB:
        assert f"sso:keycloak->{svc}" in ids
    assert {"database:postgresql->nextcloud", "cache:redis->nextcloud", "database:postgresql->mattermost",
            "email:iredmail->nextcloud", "email:iredmail->mattermost"} <= ids
    assert dev.platform.outputs["mattermost"]["sso_button"] == "GitLab"


def test_switched_off_sso_and_mail_are_not_wired(without_sso_and_mail):
    ev = without_sso_and_mail
    assert not [c for c in ev.of_type(CLIENT) if c.name in {f"oidc-{s}" for s in COLLAB}]
    nc = ev.container("itstack-dev-nextcloud")
    env = env_of(nc)
    assert "ITSTACK_OIDC_CLIENT_SECRET" not in env and "SMTP_HOST" not in env
    assert "user_oidc" not in uploads_of(nc)[nc_mod.HOOK]["content"]
    mm = env_of(ev.container("itstack-dev-mattermost"))
    assert "MM_GITLABSETTINGS_ENABLE" not in mm and mm["MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS"] == "false"
    assert env_of(ev.container("itstack-dev-jitsi-web"))["ENABLE_AUTH"] == "0"
    ids = {i["id"] for i in ev.platform.integrations.applied()}
    assert "sso:keycloak->nextcloud" not in ids and "email:iredmail->nextcloud" not in ids


# ---------------------------------------------------------------- providers and the bridge


def test_mattermost_admin_provider_diff():
    p = mm_api.MattermostAdminProvider()
    base = {"url": "http://h:8065", "username": "a", "email": "a@x", "password": "p1"}
    assert p.diff("id", base, dict(base)).changes is False
    d = p.diff("id", base, {**base, "password": "p2"})
    assert d.changes is True and not d.replaces
    assert p.diff("id", base, {**base, "username": "b"}).replaces == ["username"]
    # A moved engine address is an update (nothing to redo on the server, but state must record
    # where the server is now, or refresh/destroy would use the old address: issue 12).
    moved = p.diff("id", base, {**base, "url": "http://other:1"})
    assert moved.changes is True and not moved.replaces


def test_mattermost_webhook_provider_diff():
    p = mm_api.MattermostWebhookProvider()
    base = {"url": "u", "public_url": "https://chat", "name": "zabbix", "channel": "ops", "admin_password": "x"}
    # A new admin password is an update that records it (issue 12), not a replacement.
    rotated = p.diff("id", base, {**base, "admin_password": "y"})
    assert rotated.changes is True and not rotated.replaces
    assert p.diff("id", base, {**base, "channel": "other"}).replaces == ["channel"]


LUA = shutil.which("lua5.4") or shutil.which("lua5.3") or shutil.which("lua")


def test_bridge_signs_a_token_prosody_accepts(tmp_path):
    """Run the Prosody module with stubbed Prosody libraries, drive login and callback, and check
    the token it hands out: HS256 with the app secret, the claims Jitsi's token_verification
    requires, the room bound to the login, and the state bound to the browser's cookie."""
    assert LUA is not None, "lua5.4 is needed for this test: scripts/setup installs it (apt-get install lua5.4)"
    import base64
    import hmac

    harness = Path(__file__).with_name("lua") / "bridge_harness.lua"
    module = jitsi_mod.MODULE_FILE
    out = subprocess.run([LUA, str(harness), str(module)], capture_output=True, text=True, timeout=30,
                         env={"JWT_APP_ID": "jitsi", "JWT_APP_SECRET": "s3cret", "PUBLIC_URL": "https://meet.x",
                              "XMPP_DOMAIN": "meet.jitsi", "ITSTACK_OIDC_AUTH_URL": "https://sso/auth",
                              "ITSTACK_OIDC_TOKEN_URL": "http://kc/token", "ITSTACK_OIDC_USERINFO_URL": "http://kc/ui",
                              "ITSTACK_OIDC_CLIENT_ID": "jitsi", "ITSTACK_OIDC_CLIENT_SECRET": "cs",
                              "ITSTACK_OIDC_REQUIRED_ROLE": "moderator", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["login_status"] == 302 and result["login_location"].startswith("https://sso/auth?")
    assert "redirect_uri=https%3A%2F%2Fmeet.x%2Foidc%2Fcallback" in result["login_location"]
    assert result["token_request_body"].count("client_secret=cs") == 1
    assert result["foreign_cookie_status"] == 400
    assert result["callback_status"] == 302
    location = result["callback_location"]
    assert location.startswith("https://meet.x/teamroom?jwt=")
    token = location.split("jwt=", 1)[1]
    header_b64, payload_b64, sig_b64 = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    expected = hmac.new(b"s3cret", f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(pad(sig_b64)) == expected
    claims = json.loads(base64.urlsafe_b64decode(pad(payload_b64)))
    assert json.loads(base64.urlsafe_b64decode(pad(header_b64)))["alg"] == "HS256"
    assert claims["iss"] == "jitsi" and claims["aud"] == "jitsi" and claims["sub"] == "meet.jitsi"
    assert claims["room"] == "teamroom" and claims["exp"] > claims["iat"]
    assert claims["context"]["user"]["email"] == "ann@x" and claims["context"]["user"]["id"] == "uuid-ann"
    assert result["no_role_status"] == 403


def test_nextcloud_hook_is_runnable_by_www_data_with_and_without_sso(dev, without_sso_and_mail):
    for ev in (dev, without_sso_and_mail):
        nc = ev.container(f"itstack-{ev.settings.stack}-nextcloud")
        hook = uploads_of(nc)[nc_mod.HOOK]
        assert hook.get("permissions") == nc_mod.HOOK_MODE == "0755", hook.get("permissions")


def test_nextcloud_cron_gets_no_oidc_client_secret(dev):
    """Hooks run in the main container only; the cron container needs Redis, not the client secret."""
    cron = env_of(dev.container("itstack-dev-nextcloud-cron"))
    assert "ITSTACK_OIDC_CLIENT_SECRET" not in cron and "ITSTACK_REDIS_PASSWORD" in cron
    assert "SMTP_AUTHTYPE" not in env_of(dev.container("itstack-dev-nextcloud"))


def test_jitsi_web_proxies_colibri_websockets_to_the_bridge(dev):
    web, jvb = env_of(dev.container("itstack-dev-jitsi-web")), env_of(dev.container("itstack-dev-jitsi-jvb"))
    assert web["ENABLE_COLIBRI_WEBSOCKET"] == "1" and jvb["ENABLE_COLIBRI_WEBSOCKET"] == "1"
    assert jvb["JVB_WS_SERVER_ID"] == "itstack-dev-jitsi-jvb"
    assert web["COLIBRI_WEBSOCKET_REGEX"] == "itstack-dev-jitsi-jvb"


def _load_bridge_on(host, tmp_path):
    """Load the bridge module as Prosody would on `host`; returns the HTTP routes it registered."""
    stub = tmp_path / "load.lua"
    stub.write_text(
        "package.preload['net.http'] = function() return {} end\n"
        "package.preload['util.http'] = function() return {} end\n"
        "package.preload['util.json'] = function() return {} end\n"
        "package.preload['util.hashes'] = function() return {} end\n"
        "package.preload['util.encodings'] = function() return {base64 = {}} end\n"
        "package.preload['util.uuid'] = function() return {} end\n"
        "local routes = 'none'\n"
        f"module = {{ host = {json.dumps(host)}, log = function() end, depends = function() end,\n"
        "  provides = function(_, kind, def) if kind == 'http' then routes = 'registered' end end }\n"
        "dofile(arg[1])\nprint(routes)\n")
    out = subprocess.run([LUA, str(stub), str(jitsi_mod.MODULE_FILE)], capture_output=True, text=True, timeout=30,
                         env={"JWT_APP_ID": "jitsi", "JWT_APP_SECRET": "s", "PUBLIC_URL": "https://meet.x",
                              "XMPP_DOMAIN": "meet.jitsi", "ITSTACK_OIDC_AUTH_URL": "a", "ITSTACK_OIDC_TOKEN_URL": "t",
                              "ITSTACK_OIDC_USERINFO_URL": "u", "ITSTACK_OIDC_CLIENT_ID": "jitsi",
                              "ITSTACK_OIDC_CLIENT_SECRET": "c", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_bridge_serves_the_main_host_only(tmp_path):
    """XMPP_MODULES loads the module on the guest VirtualHost too (jitsi-meet.cfg.lua)."""
    assert LUA is not None, "lua5.4 is needed for this test: scripts/setup installs it (apt-get install lua5.4)"
    assert _load_bridge_on("meet.jitsi", tmp_path) == "registered"
    assert _load_bridge_on("guest.meet.jitsi", tmp_path) == "none"


def test_collaboration_doc_matches_the_code():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "services" / "collaboration.md").read_text()
    jitsi_part = doc[doc.index("## Jitsi Meet"):]
    assert "transformation" not in jitsi_part.replace("no transformation", "")
    assert "web: `ENABLE_COLIBRI_WEBSOCKET=1`" in jitsi_part
    assert "`SMTP_AUTHTYPE=LOGIN`" not in doc
