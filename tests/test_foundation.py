"""The whole program under mocks: every stack file evaluates, and the foundation's contracts hold."""
import pytest

from harness import evaluate, stack_config

CONTAINER = "docker:index/container:Container"


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def services_of(ev):
    return {c.inputs["labels"][0]["value"] for c in ev.containers()}


def is_job(c):
    """One-shot jobs (attach, must_run false) run to completion instead of serving."""
    return c.inputs.get("attach") and c.inputs.get("mustRun") is False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_file_evaluates_with_every_enabled_service(stack):
    ev = evaluate(stack, stack_config(stack))
    deployed = services_of(ev)
    foundation = {"freeipa", "keycloak", "postgresql", "mariadb", "redis", "elasticsearch", "traefik"}
    assert foundation <= deployed
    assert deployed <= set(ev.settings.services)


def test_prod_places_each_service_on_its_itstack_host(prod):
    expected = {"freeipa": "lab-id1", "keycloak": "lab-id1", "postgresql": "lab-db1", "mariadb": "lab-db1",
                "redis": "lab-db1", "elasticsearch": "lab-db1", "traefik": "lab-proxy1"}
    for c in prod.containers():
        service = c.inputs["labels"][0]["value"]
        if service in expected:
            assert f"docker-{expected[service]}" in c.provider, (service, c.provider)
    providers = prod.of_type("pulumi:providers:docker")
    assert {p.inputs["host"] for p in providers} == {f"ssh://deploy@{h}.it-stack.lab" for h in
                                                     ["lab-id1", "lab-db1", "lab-app1", "lab-comm1", "lab-proxy1",
                                                      "lab-pbx1", "lab-biz1", "lab-mgmt1"]}


def test_dev_runs_everything_on_the_local_engine(dev):
    providers = dev.of_type("pulumi:providers:docker")
    assert [p.inputs["host"] for p in providers] == ["unix:///var/run/docker.sock"]


def test_every_serving_container_has_a_health_check_wait_restart_and_limits(dev, prod):
    for ev in (dev, prod):
        for c in ev.containers():
            if is_job(c):
                continue
            name = c.inputs["name"]
            hc = c.inputs.get("healthcheck") or {}
            assert hc.get("tests") and hc["tests"][0] in ("CMD", "CMD-SHELL"), name
            assert c.inputs.get("wait") is True and c.inputs.get("waitTimeout", 0) >= 60, name
            assert c.inputs.get("restart") == "unless-stopped", name
            svc = c.inputs["labels"][0]["value"]
            assert c.inputs.get("memory") == ev.settings.sizes[svc].memory_mb, name
            assert float(c.inputs.get("cpus")) == ev.settings.sizes[svc].cpus, name


def test_sizes_from_settings_reach_the_container():
    raw = {**stack_config("dev"), "sizes": {"postgresql": {"memoryMb": 4096, "cpus": 3}}}
    ev = evaluate("dev", raw)
    pg = ev.container("itstack-dev-postgresql")
    assert pg.inputs["memory"] == 4096 and pg.inputs["cpus"] == "3.0"


def test_health_checks_prove_the_service_answers(dev):
    checks = {c.inputs["name"]: " ".join(c.inputs["healthcheck"]["tests"]) for c in dev.containers() if not is_job(c)}
    assert "select 1" in checks["itstack-dev-postgresql"] and "psql" in checks["itstack-dev-postgresql"]
    assert "select 1" in checks["itstack-dev-mariadb"]
    assert "PONG" in checks["itstack-dev-redis"]
    assert "/health/ready" in checks["itstack-dev-keycloak"] and "9000" in checks["itstack-dev-keycloak"]
    assert "_cluster/health" in checks["itstack-dev-elasticsearch"]
    assert "--ping" in checks["itstack-dev-traefik"]


def test_images_are_the_pinned_settings(dev):
    images = {r.name: r.inputs["name"] for r in dev.of_type("docker:index/remoteImage:RemoteImage")}
    assert images["postgresql-main-image"] == dev.settings.image("postgresql").ref
    assert "@sha256:" in images["keycloak-main-image"]
    assert all(":" in ref.split("/")[-1] for ref in images.values())


def test_image_override_reaches_the_container():
    raw = {**stack_config("dev"), "images": {"redis": "itstack-local/redis:7.0-abc"}}
    ev = evaluate("dev", raw)
    assert ev.named("docker:index/remoteImage:RemoteImage", "redis-main-image").inputs["name"] == "itstack-local/redis:7.0-abc"


def test_secrets_stay_secret(dev):
    passwords = {r.name for r in dev.of_type("random:index/randomPassword:RandomPassword")}
    assert passwords, "credentials come from pulumi_random"
    for c in dev.containers():
        if c.inputs.get("envs") and any("PASSWORD" in e or "AUTH" in e for e in c.inputs["envs"]):
            assert "envs" in c.secret_inputs, c.inputs["name"]
        if c.inputs.get("uploads"):
            assert "uploads" in c.secret_inputs, c.inputs["name"]
    for t, field in [("pulumi:providers:postgresql", "password"), ("pulumi:providers:keycloak", "password"),
                     ("postgresql:index/role:Role", "password"),
                     ("keycloak:ldap/userFederation:UserFederation", "bindCredential")]:
        for r in dev.of_type(t):
            assert field in r.secret_inputs, (t, r.name)


def test_no_credential_in_a_label(dev, prod):
    for ev in (dev, prod):
        secrets = {v for r in ev.of_type("random:index/randomPassword:RandomPassword") for v in [f"pw-"]}
        for r in ev.records:
            for label in r.inputs.get("labels", []) or []:
                value = str(label.get("value", ""))
                assert not value.startswith("pw-") and "PASSWORD" not in label.get("label", "").upper(), (r.name, label)
        assert secrets


def test_every_database_belongs_to_its_own_role(dev):
    roles = {r.inputs["name"]: r for r in dev.of_type("postgresql:index/role:Role")}
    dbs = dev.of_type("postgresql:index/database:Database")
    assert dbs
    for db in dbs:
        owner = db.inputs["owner"]
        assert owner == f"{db.inputs['name']}_user"
        role = roles[owner]
        assert role.inputs["login"] is True and role.inputs.get("superuser") is False
        assert role.inputs.get("createDatabase") is False and role.inputs.get("createRole") is False
    owners = [db.inputs["owner"] for db in dbs]
    assert len(owners) == len(set(owners)), "no role owns two databases"
    revokes = {g.inputs["database"] for g in dev.of_type("postgresql:index/grant:Grant")
               if g.inputs["role"] == "public" and g.inputs["privileges"] == []}
    # Every consumer database and the cluster's maintenance databases (a consumer's role could
    # otherwise still open `postgres`: found on a real server).
    assert revokes == {db.inputs["name"] for db in dbs} | {"postgres", "template1"}, "PUBLIC may connect to no database"


def test_keycloak_gets_its_own_database_credentials(dev):
    kc = dev.container("itstack-dev-keycloak")
    env = dict(e.split("=", 1) for e in kc.inputs["envs"])
    assert env["KC_DB_URL"] == "jdbc:postgresql://itstack-dev-postgresql:5432/keycloak"
    assert env["KC_DB_USERNAME"] == "keycloak_user"
    role = dev.named("postgresql:index/role:Role", "postgresql-keycloak-role")
    assert env["KC_DB_PASSWORD"] == role.inputs["password"]
    assert env["KC_HEALTH_ENABLED"] == "true" and env["KC_HOSTNAME"] == "https://sso.it-stack.lab"


def test_data_network_is_internal_and_data_volumes_are_separate(dev):
    nets = {n.inputs["name"]: n for n in dev.of_type("docker:index/network:Network")}
    assert nets["itstack-dev-data"].inputs["internal"] is True
    assert nets["itstack-dev-publish"].inputs["options"]["com.docker.network.bridge.enable_ip_masquerade"] == "false"
    pg = dev.container("itstack-dev-postgresql")
    assert pg.inputs["volumes"][0]["volumeName"] == "itstack-dev-postgresql-data"
    assert dev.named("docker:index/volume:Volume", "postgresql-data").protect is False


def test_prod_protects_data_volumes(prod):
    vols = prod.of_type("docker:index/volume:Volume")
    assert vols and all(v.protect for v in vols)


def test_published_ports_bind_to_the_host_address_only(dev, prod):
    for ev in (dev, prod):
        for c in ev.containers():
            for port in c.inputs.get("ports", []) or []:
                host = ev.settings.host_of(c.inputs["labels"][0]["value"])
                assert port["ip"] == host.address, (c.inputs["name"], port)


def test_keycloak_realm_federation_and_admin_mapping(dev):
    realm = dev.named("keycloak:index/realm:Realm", "realm")
    assert realm.inputs["realm"] == "it-stack"
    assert realm.inputs["securityDefenses"]["bruteForceDetection"]["maxLoginFailures"] == 5
    assert "length(12)" in realm.inputs["passwordPolicy"]
    fed = dev.named("keycloak:ldap/userFederation:UserFederation", "freeipa-federation")
    assert fed.inputs["vendor"] == "RHDS" and fed.inputs["editMode"] == "READ_ONLY"
    assert fed.inputs["usernameLdapAttribute"] == "uid" and fed.inputs["uuidLdapAttribute"] == "ipaUniqueID"
    assert fed.inputs["usersDn"] == "cn=users,cn=accounts,dc=it-stack,dc=lab"
    gm = dev.named("keycloak:ldap/groupMapper:GroupMapper", "freeipa-groups")
    assert gm.inputs["ldapGroupsDn"] == "cn=groups,cn=accounts,dc=it-stack,dc=lab"
    admins = dev.named("keycloak:index/group:Group", "group-admins")
    grant = dev.named("keycloak:index/groupRoles:GroupRoles", "admins-realm-admin")
    assert grant.inputs["groupId"] == f"{admins.name}-id" and grant.inputs["roleIds"] == ["role-realm-admin-uuid"]


def test_keycloak_provider_comes_after_keycloak_is_ready(dev):
    kc = dev.container("itstack-dev-keycloak")
    provider = dev.named("pulumi:providers:keycloak", "keycloak-admin")
    assert dev.before(kc.urn, provider.urn)
    pg = dev.container("itstack-dev-postgresql")
    assert dev.before(pg.urn, dev.named("pulumi:providers:postgresql", "postgresql-admin").urn)


def test_identity_order_follows_the_graph(dev):
    kc = dev.container("itstack-dev-keycloak")
    assert dev.before(dev.container("itstack-dev-freeipa").urn, kc.urn), "FreeIPA before Keycloak"
    assert dev.before(dev.container("itstack-dev-postgresql").urn, kc.urn), "PostgreSQL before Keycloak"
    assert not dev.before(kc.urn, dev.container("itstack-dev-postgresql").urn)


def test_freeipa_container_mode_is_privileged_with_host_cgroups(dev):
    ipa = dev.container("itstack-dev-freeipa")
    assert ipa.inputs["privileged"] is True and ipa.inputs["cgroupnsMode"] == "host"
    assert "uploads" in ipa.secret_inputs


def test_external_directory_is_used_as_given():
    raw = {**stack_config("dev"), "identity": {"mode": "external", "url": "ldap://ipa.corp.test:389",
                                                "baseDn": "dc=corp,dc=test",
                                                "bindDn": "uid=kc,cn=sysaccounts,cn=etc,dc=corp,dc=test",
                                                "network": "corp-ldap"}}
    ev = evaluate("dev", raw, {"directoryBindPassword": "s3cret-bind"})
    assert not [c for c in ev.containers() if c.inputs["labels"][0]["value"] == "freeipa"]
    fed = ev.named("keycloak:ldap/userFederation:UserFederation", "freeipa-federation")
    assert fed.inputs["connectionUrl"] == "ldap://ipa.corp.test:389"
    assert fed.inputs["usersDn"] == "cn=users,cn=accounts,dc=corp,dc=test"
    assert fed.inputs["bindCredential"] == "s3cret-bind" and "bindCredential" in fed.secret_inputs
    kc = ev.container("itstack-dev-keycloak")
    assert "corp-ldap" in [n["name"] for n in kc.inputs["networksAdvanced"]]


def _traefik_static(ev, name):
    import json
    files = {u["file"]: u.get("content") for u in ev.container(name).inputs["uploads"]}
    return json.loads(files["/etc/traefik/traefik.yml"])


def test_http_redirects_to_the_https_port_browsers_reach(dev, prod):
    # dev publishes HTTPS on 443 + portOffset 10000 (the built Traefik redirected to :443 before).
    assert _traefik_static(dev, "itstack-dev-traefik")["entryPoints"]["web"]["http"]["redirections"][
        "entryPoint"]["to"] == ":10443"
    assert _traefik_static(prod, "itstack-prod-traefik")["entryPoints"]["web"]["http"]["redirections"][
        "entryPoint"]["to"] == "websecure"


def test_traefik_routes_redirect_and_dashboard_auth(dev):
    import json
    t = dev.container("itstack-dev-traefik")
    files = {u["file"]: u.get("content") for u in t.inputs["uploads"]}
    static = json.loads(files["/etc/traefik/traefik.yml"])
    assert static["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]["scheme"] == "https"
    assert static["api"]["insecure"] is False
    dynamic = json.loads(files["/etc/traefik/dynamic.yml"])
    routers = dynamic["http"]["routers"]
    assert routers["keycloak"]["rule"] == "Host(`sso.it-stack.lab`)"
    assert dynamic["http"]["services"]["keycloak"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-keycloak:8080"
    assert "dashboard-auth" in routers["dashboard"]["middlewares"]
    assert dynamic["http"]["middlewares"]["dashboard-auth"]["basicAuth"]["users"][0].startswith("admin:$2")
    assert "certificates" in dynamic["tls"]  # self-signed in dev
    assert "/etc/traefik/certs/site.key" in files


def test_prod_uses_acme_and_routes_across_hosts(prod):
    import json
    t = prod.container("itstack-prod-traefik")
    files = {u["file"]: u.get("content") for u in t.inputs["uploads"]}
    static = json.loads(files["/etc/traefik/traefik.yml"])
    assert static["certificatesResolvers"]["acme"]["acme"]["email"] == "platform@it-stack.lab"
    dynamic = json.loads(files["/etc/traefik/dynamic.yml"])
    assert dynamic["http"]["routers"]["keycloak"]["tls"] == {"certResolver": "acme"}
    assert dynamic["http"]["services"]["keycloak"]["loadBalancer"]["servers"][0]["url"] == "http://10.0.50.11:8080"


def test_names_are_deterministic(dev):
    again = evaluate("dev", stack_config("dev"))
    assert [r.urn for r in dev.records] == [r.urn for r in again.records] or \
        sorted(r.urn for r in dev.records) == sorted(r.urn for r in again.records)
    for c in dev.containers():
        assert c.inputs["name"].startswith("itstack-dev-")



def test_two_services_never_publish_the_same_host_port():
    from components.base import HostRuntime

    host = HostRuntime.__new__(HostRuntime)  # no provider needed to claim ports
    host._published, host.name = {}, "local"
    assert host.claim_port(18080, "tcp", "keycloak/main") == 18080
    assert host.claim_port(18080, "udp", "jitsi/jvb") == 18080  # another protocol is another port
    with pytest.raises(ValueError, match="18080/tcp is published by both keycloak/main and zabbix/web"):
        host.claim_port(18080, "tcp", "zabbix/web")


def test_published_ports_are_unique_per_host(dev, prod):
    for ev in (dev, prod):
        seen = {}
        for c in ev.containers():
            for p in c.inputs.get("ports", []) or []:
                key = (c.provider, p["ip"], int(p["external"]), p.get("protocol", "tcp"))
                assert key not in seen, (c.inputs["name"], seen.get(key))
                seen[key] = c.inputs["name"]


def test_traefik_access_log_goes_to_graylog_over_udp(dev):
    t = dev.container("itstack-dev-traefik")
    g = dev.container("itstack-dev-graylog")
    udp = [p for p in g.inputs["ports"] if p.get("protocol") == "udp" and p["internal"] == 12201][0]
    assert t.inputs["logDriver"] == "gelf"
    assert t.inputs["logOpts"]["gelf-address"] == f"udp://127.0.0.1:{int(udp['external'])}"
    assert "logging:traefik->graylog" in {i["id"] for i in dev.platform.integrations.applied()}


def test_traefik_logs_locally_when_that_integration_is_off():
    raw = {**stack_config("dev"), "integrations": {"disabled": ["logging:traefik->graylog"]}}
    ev = evaluate("dev", raw)
    t = ev.container("itstack-dev-traefik")
    assert t.inputs.get("logDriver") in (None, "") and t.inputs["logOpts"]["max-size"] == "20m"
    assert "logging:traefik->graylog" not in {i["id"] for i in ev.platform.integrations.applied()}
