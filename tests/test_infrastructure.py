"""The infrastructure tier under mocks: Zabbix (server, web, agent 2) and Graylog (+ MongoDB, OpenSearch)."""
import hashlib
import json

import pulumi
import pytest

import harness
import stack
from harness import evaluate, stack_config

CONTAINER = "docker:index/container:Container"
DYNAMIC = "pulumi-python:dynamic:Resource"
FAKE_CERT = harness.REALM_CERT


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def env(c):
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def dyn(ev, name):
    return ev.named(DYNAMIC, name)


def role_passwords(ev):
    return {r.inputs["name"]: r.inputs["password"] for r in ev.of_type("postgresql:index/role:Role")}


def dynamic_config(ev):
    t = ev.container(f"itstack-{ev.settings.stack}-traefik")
    files = {u["file"]: u.get("content") for u in t.inputs["uploads"]}
    return json.loads(files["/etc/traefik/dynamic.yml"])


# --- Zabbix ------------------------------------------------------------------------------------
def test_zabbix_server_and_web_use_zabbix_own_database(dev):
    pw = role_passwords(dev)
    for role in ("server", "web"):
        e = env(dev.container(f"itstack-dev-zabbix-{role}"))
        assert e["DB_SERVER_HOST"] == "itstack-dev-postgresql" and e["DB_SERVER_PORT"] == "5432"
        assert e["POSTGRES_DB"] == "zabbix" and e["POSTGRES_USER"] == "zabbix_user"
        assert e["POSTGRES_PASSWORD"] == pw["zabbix_user"]
        others = {v for k, v in pw.items() if k != "zabbix_user"}
        assert not others & set(e.values()), f"zabbix-{role} holds another service's database password"
    db = dev.named("postgresql:index/database:Database", "postgresql-zabbix-db")
    assert db.inputs["owner"] == "zabbix_user"
    server = dev.container("itstack-dev-zabbix-server")
    assert dev.before(dev.named("postgresql:index/grant:Grant", "postgresql-zabbix-revoke-public").urn, server.urn)


def test_zabbix_saml_client_matches_what_zabbix_sends(dev):
    client = dev.named("keycloak:saml/client:Client", "saml-monitor")
    saml = dyn(dev, "zabbix-saml")
    assert client.inputs["clientId"] == saml.inputs["sp_entityid"] == "https://monitor.it-stack.lab"
    assert client.inputs["assertionConsumerPostUrl"] == "https://monitor.it-stack.lab/index_sso.php?acs"
    assert client.inputs["logoutServicePostBindingUrl"] == "https://monitor.it-stack.lab/index_sso.php?sls"
    assert saml.inputs["idp_entityid"] == "https://sso.it-stack.lab/realms/it-stack"
    assert saml.inputs["sso_url"] == "https://sso.it-stack.lab/realms/it-stack/protocol/saml"
    # Keycloak releases uid and the client roles (`Role`): Zabbix reads exactly those.
    mappers = {m.inputs["samlAttributeName"] for m in dev.of_type("keycloak:saml/userPropertyProtocolMapper:UserPropertyProtocolMapper")
               if m.name.startswith("saml-monitor-")}
    assert saml.inputs["username_attribute"] in mappers
    roles_mapper = dev.named("keycloak:index/genericProtocolMapper:GenericProtocolMapper", "saml-monitor-roles")
    assert saml.inputs["group_attribute"] == roles_mapper.inputs["config"]["attribute.name"]
    assert dev.before(client.urn, saml.urn)


def test_zabbix_web_trusts_the_realm_signing_certificate(dev):
    web = dev.container("itstack-dev-zabbix-web")
    files = {u["file"]: u["content"] for u in web.inputs["uploads"]}
    pem = files["/etc/zabbix/web/certs/idp.crt"]
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n")
    assert "".join(pem.splitlines()[1:-1]) == FAKE_CERT
    sso = json.loads(env(web)["ZBX_SSO_SETTINGS"])
    assert sso["baseurl"] == "https://monitor.it-stack.lab/" and sso["use_proxy_headers"] is True


def test_zabbix_roles_map_directory_groups(dev):
    saml = dyn(dev, "zabbix-saml")
    provision = {g["idp_group"]: g for g in saml.inputs["provision_groups"]}
    kc_roles = {r.inputs["name"] for r in dev.of_type("keycloak:index/role:Role") if r.name.startswith("saml-monitor-")}
    assert set(provision) == kc_roles
    assert provision["zabbix-admin"]["role"] == "Super admin role"
    assert provision["zabbix-user"]["role"] == "User role"
    groups = {g.name: g for g in dev.of_type("keycloak:index/group:Group")}
    admin_grant = dev.named("keycloak:index/groupRoles:GroupRoles", "saml-monitor-role-zabbix-admin-group")
    assert admin_grant.inputs["groupId"] == f"{groups['group-admins'].name}-id"
    # Users land in a group of ours that may read the monitored hosts.
    assert set(provision["zabbix-user"]["user_groups"]) <= set(saml.inputs["own_user_groups"])


def test_zabbix_route_and_health_checks(dev):
    dyn_cfg = dynamic_config(dev)
    assert dyn_cfg["http"]["routers"]["zabbix"]["rule"] == "Host(`monitor.it-stack.lab`)"
    assert dyn_cfg["http"]["services"]["zabbix"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-zabbix-web:8080"
    checks = {c.inputs["name"]: " ".join(c.inputs["healthcheck"]["tests"]) for c in dev.containers() if c.inputs.get("healthcheck")}
    assert "zabbix_server" in checks["itstack-dev-zabbix-server"] and "10051" in checks["itstack-dev-zabbix-server"]
    assert "http://127.0.0.1:8080/" in checks["itstack-dev-zabbix-web"] and "apiinfo.version" in checks["itstack-dev-zabbix-web"]
    assert "zabbix_agent2" in checks["itstack-dev-zabbix-agent"] and "10050" in checks["itstack-dev-zabbix-agent"]


def test_zabbix_api_waits_for_web_and_rotates_the_default_password(dev):
    admin = dyn(dev, "zabbix-admin")
    web = dev.container("itstack-dev-zabbix-web")
    assert dev.before(web.urn, admin.urn)
    pw = dev.named("random:index/randomPassword:RandomPassword", "zabbix-admin-password")
    assert admin.inputs["admin_password"] not in ("zabbix", "") and "admin_password" in admin.secret_inputs
    port = next(p for p in web.inputs["ports"] if p["internal"] == 8080)
    assert port["ip"] == "127.0.0.1"
    assert admin.inputs["api_url"] == f"http://127.0.0.1:{int(port['external'])}"
    assert pw.inputs["length"] >= 32


def test_zabbix_monitors_every_deployed_service_after_it_exists(dev):
    monitors = {r.inputs["service"]: r for r in dev.of_type(DYNAMIC) if r.name.startswith("zabbix-monitor-")
                and r.name != "zabbix-monitor-host-local"}
    deployed = {c.inputs["labels"][0]["value"] for c in dev.containers()} - {"traefik"}
    assert deployed <= set(monitors), deployed - set(monitors)
    for service, mon in monitors.items():
        if service == "zabbix":
            continue
        for c in dev.containers():
            if c.inputs["labels"][0]["value"] == service and not c.inputs.get("attach"):
                assert dev.before(c.urn, mon.urn), (service, c.inputs["name"])
    # Web checks target the same backend as the route; data services get TCP checks.
    backends = {s: v["loadBalancer"]["servers"][0]["url"] for s, v in dynamic_config(dev)["http"]["services"].items()}
    for service, mon in monitors.items():
        for check in mon.inputs["web_checks"]:
            assert check["url"].rstrip("/") == backends[service]
    assert monitors["postgresql"].inputs["tcp_checks"] == [
        {"name": "postgresql port 5432", "address": "itstack-dev-postgresql", "port": 5432}]
    integ = {i["id"] for i in dev.platform.integrations.applied()}
    assert {f"monitoring:zabbix->{s}" for s in monitors if s != "zabbix"} <= integ


def test_zabbix_server_can_reach_what_it_monitors(dev):
    nets = {n["name"] for n in dev.container("itstack-dev-zabbix-server").inputs["networksAdvanced"]}
    assert {"itstack-dev-data", "itstack-dev-identity", "itstack-dev-infrastructure"} <= nets


def test_zabbix_agent_host_is_registered(dev):
    mon = dyn(dev, "zabbix-monitor-host-local")
    agent = dev.container("itstack-dev-zabbix-agent")
    assert mon.inputs["agent"]["dns"] == agent.inputs["name"]
    assert env(agent)["ZBX_SERVER_HOST"] == "itstack-dev-zabbix-server" and env(agent)["ZBX_HOSTNAME"] == mon.inputs["host"]


def test_zabbix_sso_switch_off():
    raw = {**stack_config("dev"), "integrations": {"disabled": ["sso:keycloak->zabbix"]}}
    ev = evaluate("dev", raw)
    assert not [r for r in ev.of_type("keycloak:saml/client:Client") if r.name == "saml-monitor"]
    assert not [r for r in ev.of_type(DYNAMIC) if r.name == "zabbix-saml"]
    assert "ZBX_SSO_SETTINGS" not in env(ev.container("itstack-dev-zabbix-web"))


def test_zabbix_alerts_go_to_a_mattermost_incoming_webhook(dev):
    notif = dyn(dev, "zabbix-notifications")
    hook = dyn(dev, "mattermost-hook-zabbix-ops-alerts")
    assert "mattermost_webhook_url" in notif.secret_inputs
    assert dev.before(hook.urn, notif.urn), "the webhook exists before Zabbix is told about it"
    assert notif.inputs["zabbix_url"] == "https://monitor.it-stack.lab"
    assert "notifications:zabbix->mattermost" in {i["id"] for i in dev.platform.integrations.applied()}


def test_zabbix_mail_uses_its_own_mailbox(dev):
    notif = [r for r in dev.of_type(DYNAMIC) if r.name == "zabbix-notifications"]
    if dev.platform.mail is None:
        assert not notif
        return
    smtp = notif[0].inputs["smtp"]
    assert smtp["user"].startswith("zabbix@") and smtp["port"] == 587
    assert "smtp" in notif[0].secret_inputs


# --- Graylog -----------------------------------------------------------------------------------
def test_graylog_uses_its_own_mongodb_and_opensearch(dev):
    g = env(dev.container("itstack-dev-graylog"))
    mongo = dev.container("itstack-dev-graylog-mongodb")
    os_ = dev.container("itstack-dev-graylog-opensearch")
    pw = env(mongo)["MONGO_INITDB_ROOT_PASSWORD"]
    assert g["GRAYLOG_MONGODB_URI"] == f"mongodb://graylog:{pw}@itstack-dev-graylog-mongodb:27017/graylog?authSource=admin"
    assert g["GRAYLOG_ELASTICSEARCH_HOSTS"] == "http://itstack-dev-graylog-opensearch:9200"
    assert "elasticsearch:9200" not in g["GRAYLOG_ELASTICSEARCH_HOSTS"].replace("graylog-opensearch", "")
    assert not set(role_passwords(dev).values()) & set(g.values()), "Graylog has no SQL database"
    assert env(os_)["discovery.type"] == "single-node"
    # Their only network is Graylog's internal backend network; nothing of theirs is published.
    net = dev.named("docker:index/network:Network", "graylog-backend-net")
    assert net.inputs["internal"] is True
    for c in (mongo, os_):
        assert [n["name"] for n in c.inputs["networksAdvanced"]] == [net.inputs["name"]]
        assert not c.inputs.get("ports")
    assert net.inputs["name"] in {n["name"] for n in dev.container("itstack-dev-graylog").inputs["networksAdvanced"]}


def test_graylog_root_password_and_secret(dev):
    g = env(dev.container("itstack-dev-graylog"))
    root = dyn(dev, "graylog-input-gelf-udp").inputs["root_password"]
    assert g["GRAYLOG_ROOT_PASSWORD_SHA2"] == hashlib.sha256(root.encode()).hexdigest()
    assert len(g["GRAYLOG_PASSWORD_SECRET"]) >= 16 and g["GRAYLOG_PASSWORD_SECRET"] != root
    assert g["GRAYLOG_HTTP_EXTERNAL_URI"] == "https://logs.it-stack.lab/"
    c = dev.container("itstack-dev-graylog")
    assert "envs" in c.secret_inputs
    for name in ("graylog-input-gelf-udp", "graylog-ldap"):
        assert "root_password" in dyn(dev, name).secret_inputs


def test_graylog_route_health_and_inputs(dev):
    dyn_cfg = dynamic_config(dev)
    assert dyn_cfg["http"]["routers"]["graylog"]["rule"] == "Host(`logs.it-stack.lab`)"
    assert dyn_cfg["http"]["services"]["graylog"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-graylog:9000"
    checks = {c.inputs["name"]: " ".join(c.inputs["healthcheck"]["tests"]) for c in dev.containers() if c.inputs.get("healthcheck")}
    assert "/api/system/lbstatus" in checks["itstack-dev-graylog"] and "ALIVE" in checks["itstack-dev-graylog"]
    assert "_cluster/health" in checks["itstack-dev-graylog-opensearch"]
    assert "ping" in checks["itstack-dev-graylog-mongodb"]
    inputs = {r.inputs["title"]: r.inputs for r in dev.of_type(DYNAMIC) if r.name.startswith("graylog-input-")}
    assert inputs["GELF UDP"]["configuration"]["port"] == 12201 and "udp" in inputs["GELF UDP"]["input_type"].lower()
    assert inputs["Syslog UDP"]["configuration"]["port"] == 1514
    ports = {p["internal"]: p for p in dev.container("itstack-dev-graylog").inputs["ports"]}
    assert {12201, 1514} <= set(ports) and all(p["ip"] == "127.0.0.1" for p in ports.values())
    g = dev.container("itstack-dev-graylog")
    for r in dev.of_type(DYNAMIC):
        if r.name.startswith("graylog-input-"):
            assert dev.before(g.urn, r.urn)


def test_graylog_signs_in_freeipa_users_over_ldap(dev):
    ldap = dyn(dev, "graylog-ldap")
    directory = dev.platform.freeipa.directory
    assert ldap.inputs["bind_dn"] == directory.bind_dn
    assert ldap.inputs["users_dn"] == "cn=users,cn=accounts,dc=it-stack,dc=lab"
    assert ldap.inputs["ldap_host"] == "itstack-dev-freeipa" and ldap.inputs["ldap_port"] == 389
    assert ldap.inputs["default_roles"] == ["Reader"]
    assert "bind_password" in ldap.secret_inputs
    assert dev.before(dev.container("itstack-dev-freeipa").urn, ldap.urn)
    nets = {n["name"] for n in dev.container("itstack-dev-graylog").inputs["networksAdvanced"]}
    assert "itstack-dev-identity" in nets


# --- Placement ---------------------------------------------------------------------------------
def test_prod_places_zabbix_on_comm1_and_graylog_on_proxy1(prod):
    for c in prod.containers():
        svc = c.inputs["labels"][0]["value"]
        if svc == "zabbix":
            assert "docker-lab-comm1" in c.provider, c.inputs["name"]
        if svc == "graylog":
            assert "docker-lab-proxy1" in c.provider, c.inputs["name"]
    dyn_cfg = dynamic_config(prod)
    assert dyn_cfg["http"]["services"]["zabbix"]["loadBalancer"]["servers"][0]["url"] == "http://10.0.50.14:8090"
    assert dyn_cfg["http"]["services"]["graylog"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-prod-graylog:9000"
    # Across hosts Zabbix checks by host address and published port.
    mon = dyn(prod, "zabbix-monitor-keycloak")
    assert mon.inputs["web_checks"][0]["url"] == "http://10.0.50.11:8080/"
    for name in ("itstack-prod-graylog-mongodb", "itstack-prod-graylog-opensearch"):
        assert not prod.container(name).inputs.get("ports"), name


# --- Dynamic providers: no spurious diffs (a second `up` must be a no-op) -----------------------
def test_dynamic_providers_diff_on_inputs_only():
    from components.infrastructure.graylog_api import GraylogInputProvider
    from components.infrastructure.zabbix_api import ZabbixMonitoredHostProvider, ZabbixSamlProvider

    saml = {"api_url": "u", "admin_password": "p", "sp_entityid": "e", "provision_groups": [], "userdirectoryid": None}
    assert not ZabbixSamlProvider().diff("id", dict(saml, userdirectoryid="3"), saml).changes
    assert ZabbixSamlProvider().diff("id", saml, dict(saml, sp_entityid="other")).changes
    host = {"host": "h", "web_checks": [{"url": "http://a/"}], "api_url": "u", "admin_password": "p", "hostid": None}
    assert not ZabbixMonitoredHostProvider().diff("id", dict(host, hostid="10"), host).changes
    d = ZabbixMonitoredHostProvider().diff("id", host, dict(host, web_checks=[]))
    assert d.changes and d.replaces == ["web_checks"]
    inp = {"api_url": "u", "root_password": "p", "title": "GELF UDP", "input_type": "a", "configuration": {"port": 1}}
    assert not GraylogInputProvider().diff("id", inp, dict(inp)).changes
    assert GraylogInputProvider().diff("id", inp, dict(inp, input_type="b")).replaces == ["input_type"]
