"""The communications tier under mocks: iRedMail (and the per-service mailboxes), Zammad, FreePBX."""
import json
from pathlib import Path

import pytest

from harness import evaluate, stack_config
from components.communications import freepbx as freepbx_mod
from components.communications import iredmail as iredmail_mod
from components.communications import zammad as zammad_mod

DOMAIN = "it-stack.lab"
PASSWORD = "random:index/randomPassword:RandomPassword"
MARIADB_DB = "pulumi-python:dynamic:Resource"


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def env_of(c):
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def _result(ev, name):
    """The mocked RandomPassword result, as the mocks derive it (harness.Mocks)."""
    import hashlib

    ev.named(PASSWORD, name)  # exists
    return f"pw-{hashlib.sha256(name.encode()).hexdigest()[:24]}"


def checks(c):
    return " ".join(c.inputs["healthcheck"]["tests"])


def dynamic_routes(ev, stack):
    t = ev.container(f"itstack-{stack}-traefik")
    files = {u["file"]: u.get("content") for u in t.inputs["uploads"]}
    return json.loads(files["/etc/traefik/dynamic.yml"])["http"]


def all_passwords(ev):
    return {r.name: _result(ev, r.name) for r in ev.of_type(PASSWORD)}


# ---------------------------------------------------------------- iRedMail


def test_iredmail_runs_the_pinned_image_with_secret_settings(dev):
    mail = dev.container("itstack-dev-iredmail")
    env = env_of(mail)
    assert env["HOSTNAME"] == f"mail.{DOMAIN}" and mail.inputs["hostname"] == f"mail.{DOMAIN}"
    assert env["FIRST_MAIL_DOMAIN"] == DOMAIN
    assert env["MYSQL_ROOT_PASSWORD"] == _result(dev, "iredmail-mysql-root-password")
    assert env["VMAIL_DB_ADMIN_PASSWORD"] == _result(dev, "iredmail-vmailadmin-password")
    assert env["FIRST_MAIL_DOMAIN_ADMIN_PASSWORD"] == _result(dev, "iredmail-postmaster-password")
    assert {"envs", "uploads"} <= mail.secret_inputs
    image = dev.named("docker:index/remoteImage:RemoteImage", "iredmail-main-image")
    assert image.inputs["name"] == dev.settings.image("iredmail").ref


def test_iredmail_database_is_bound_to_loopback_and_web_served_for_the_edge(dev):
    mail = dev.container("itstack-dev-iredmail")
    files = {u["file"]: u["content"] for u in mail.inputs["uploads"]}
    assert "bind-address = 127.0.0.1" in files["/opt/iredmail/custom/mysql/itstack-bind.cnf"]
    site = files["/opt/iredmail/custom/nginx/sites-enabled/itstack-http.conf"]
    assert f"listen {iredmail_mod.WEB_PORT};" in site and "roundcube" in site
    assert not any(p["internal"] == 3306 for p in mail.inputs["ports"])


def test_iredmail_publishes_mail_ports_on_the_host_address(dev, prod):
    for ev, name, address, offset in ((dev, "itstack-dev-iredmail", "127.0.0.1", 10000),
                                      (prod, "itstack-prod-iredmail", "10.0.50.14", 0)):
        ports = {p["internal"]: p for p in ev.container(name).inputs["ports"]}
        for port in (25, 587, 465, 143, 993):
            assert ports[port]["external"] == port + offset and ports[port]["ip"] == address, (name, port)


def test_iredmail_route_and_health(dev):
    routes = dynamic_routes(dev, "dev")
    assert routes["routers"]["iredmail"]["rule"] == f"Host(`mail.{DOMAIN}`)"
    url = routes["services"]["iredmail"]["loadBalancer"]["servers"][0]["url"]
    assert url == f"http://itstack-dev-iredmail:{iredmail_mod.WEB_PORT}"
    hc = checks(dev.container("itstack-dev-iredmail"))
    assert "roundcube" in hc and f"127.0.0.1:{iredmail_mod.WEB_PORT}" in hc
    assert "vmail.domain" in hc and f"/dev/tcp/127.0.0.1/{iredmail_mod.SUBMISSION_PORT}" in hc and "220" in hc


def mailbox_jobs(ev, stack):
    prefix = f"itstack-{stack}-iredmail-account-"
    return {c.inputs["name"][len(prefix):]: c for c in ev.containers() if c.inputs["name"].startswith(prefix)}


def test_every_mail_sender_gets_its_own_mailbox_and_password(dev):
    jobs = mailbox_jobs(dev, "dev")
    assert {"zammad", "freepbx"} <= set(jobs)
    seen = set()
    for service, job in jobs.items():
        env = env_of(job)
        assert env["MAILBOX"] == f"{service}@{DOMAIN}"
        assert env["MAILBOX_PASSWORD"] == _result(dev, f"iredmail-{service}-mailbox-password")
        assert env["VMAIL_DB_ADMIN_PASSWORD"] == _result(dev, "iredmail-vmailadmin-password")
        assert env["MAILBOX_PASSWORD"] not in seen
        seen.add(env["MAILBOX_PASSWORD"])
        assert "envs" in job.secret_inputs
        # The job reaches MariaDB on the mail container's loopback, after the container is up.
        assert job.inputs["networkMode"] == "container:itstack-dev-iredmail"
        assert job.inputs["attach"] is True and job.inputs["mustRun"] is False
        assert dev.before(dev.container("itstack-dev-iredmail").urn, job.urn)
        script = job.inputs["command"][0]
        assert "INSERT INTO mailbox" in script and "openssl passwd -6" in script and "MYSQL_PWD" in script
        assert "$MAILBOX_PASSWORD" not in script.split("openssl")[1].split("\n", 1)[1]  # never in SQL


def test_mailbox_names_are_checked():
    assert iredmail_mod._SERVICE_RE.match("zammad")
    for bad in ("Zammad", "a'b", "x@y", "", "1abc"):
        assert not iredmail_mod._SERVICE_RE.match(bad)


def test_mail_disabled_means_no_smtp_anywhere():
    from components.catalog import SERVICE_NAMES

    raw = {**stack_config("dev"), "services": [s for s in SERVICE_NAMES if s != "iredmail"]}
    ev = evaluate("dev", raw)
    assert ev.platform.mail is None
    assert not [c for c in ev.containers() if c.inputs["labels"][0]["value"] == "iredmail"]
    assert "ITSTACK_SMTP_HOST" not in env_of(ev.container("itstack-dev-zammad-init"))
    assert env_of(ev.container("itstack-dev-freepbx"))["ENABLE_SMTP"] == "FALSE"


def test_switching_off_one_email_integration_creates_no_mailbox():
    raw = {**stack_config("dev"), "integrations": {"disabled": ["email:iredmail->zammad"]}}
    ev = evaluate("dev", raw)
    jobs = mailbox_jobs(ev, "dev")
    assert "zammad" not in jobs and "freepbx" in jobs
    assert "ITSTACK_SMTP_HOST" not in env_of(ev.container("itstack-dev-zammad-init"))


# ---------------------------------------------------------------- Zammad

ZAMMAD_SERVING = ("railsserver", "scheduler", "websocket", "nginx")


def zammad_containers(ev, stack):
    return [ev.container(f"itstack-{stack}-zammad-{r}") for r in ("init",) + ZAMMAD_SERVING]


def test_zammad_uses_its_own_database_redis_and_search_credentials(dev):
    role = dev.named("postgresql:index/role:Role", "postgresql-zammad-role")
    db = dev.named("postgresql:index/database:Database", "postgresql-zammad-db")
    others = {v for k, v in all_passwords(dev).items() if k not in
              ("postgresql-zammad-password", "redis-zammad-password", "elasticsearch-elastic-password")}
    redis_pw = _result(dev, "redis-zammad-password")
    for c in zammad_containers(dev, "dev"):
        env = env_of(c)
        assert env["POSTGRESQL_USER"] == role.inputs["name"] == "zammad_user", c.name
        assert env["POSTGRESQL_PASS"] == role.inputs["password"], c.name
        assert env["POSTGRESQL_DB"] == db.inputs["name"] == "zammad" and env["POSTGRESQL_DB_CREATE"] == "false"
        assert env["POSTGRESQL_HOST"] == "itstack-dev-postgresql" and env["POSTGRESQL_PORT"] == "5432"
        assert env["REDIS_URL"] == f"redis://zammad:{redis_pw}@itstack-dev-redis:6379/3"
        assert env["ELASTICSEARCH_USER"] == "elastic"
        assert env["ELASTICSEARCH_PASS"] == _result(dev, "elasticsearch-elastic-password")
        assert env["ELASTICSEARCH_HOST"] == "itstack-dev-elasticsearch" and env["ELASTICSEARCH_PORT"] == "9200"
        # No credential of another service.
        assert not (set(env.values()) & others - {_result(dev, n) for n in (
            "zammad-admin-password", "zammad-monitoring-token", "iredmail-zammad-mailbox-password",
            "freeipa-keycloak-bind-password")}), c.name
        assert "envs" in c.secret_inputs, c.name
        nets = {n["name"] for n in c.inputs["networksAdvanced"]}
        assert "itstack-dev-data" in nets and "itstack-dev-communications" in nets


def test_zammad_roles_come_from_one_image(dev):
    images = {r.name for r in dev.of_type("docker:index/remoteImage:RemoteImage") if r.name.startswith("zammad")}
    assert images == {"zammad-main-image"}
    image_id = zammad_containers(dev, "dev")[0].inputs["image"]
    for c in zammad_containers(dev, "dev"):
        assert c.inputs["image"] == image_id
    for role in ZAMMAD_SERVING:
        assert dev.container(f"itstack-dev-zammad-{role}").inputs["command"] == [f"zammad-{role}"]


def test_zammad_oidc_is_its_own_public_pkce_client(dev):
    client = [r for r in dev.of_type("keycloak:openid/client:Client") if r.inputs["clientId"] == "zammad"][0]
    assert client.inputs["accessType"] == "PUBLIC" and client.inputs["pkceCodeChallengeMethod"] == "S256"
    assert not client.inputs.get("clientSecret")
    assert client.inputs["validRedirectUris"] == [f"https://desk.{DOMAIN}/auth/openid_connect/callback"]
    init = dev.container("itstack-dev-zammad-init")
    env = env_of(init)
    assert env["ITSTACK_OIDC_CLIENT_ID"] == client.inputs["clientId"]
    assert env["ITSTACK_OIDC_ISSUER"] == f"https://sso.{DOMAIN}/realms/it-stack"
    script = init.inputs["uploads"][0]["content"]
    assert init.inputs["uploads"][0]["file"] == zammad_mod.SETUP_SCRIPT
    for needle in ("auth_openid_connect_credentials", "'pkce'         => true", "ITSTACK_OIDC_CLIENT_ID",
                   "auth_third_party_auto_link_at_inital_login", "group_role_map", "monitoring_token"):
        assert needle in script, needle
    assert init.inputs["command"][0].startswith("/docker-entrypoint.sh zammad-init && ")
    assert f"rails r {zammad_mod.SETUP_SCRIPT}" in init.inputs["command"][0]
    assert {"envs", "uploads"} <= init.secret_inputs


def test_zammad_roles_map_from_directory_groups(dev):
    env = env_of(dev.container("itstack-dev-zammad-init"))
    groups = "cn=groups,cn=accounts,dc=it-stack,dc=lab"
    assert env["ITSTACK_LDAP_ADMIN_GROUP_DN"] == f"cn=zammad-admin,{groups}"
    assert env["ITSTACK_LDAP_AGENT_GROUP_DN"] == f"cn=zammad-agent,{groups}"
    assert env["ITSTACK_LDAP_HOST"] == "itstack-dev-freeipa:389" and env["ITSTACK_LDAP_SSL"] == "off"
    assert env["ITSTACK_LDAP_BIND_PASSWORD"] == _result(dev, "freeipa-keycloak-bind-password")
    roles = {r.inputs["name"] for r in dev.of_type("keycloak:index/role:Role") if r.name.startswith("oidc-zammad")}
    assert roles == {"zammad-admin", "zammad-agent"}


def test_zammad_ldap_url_parsing():
    assert zammad_mod.ldap_host_and_ssl("ldap://ipa:389") == ("ipa:389", "off")
    assert zammad_mod.ldap_host_and_ssl("ldaps://ipa.corp.test") == ("ipa.corp.test:636", "ssl")


def test_zammad_sends_mail_with_its_own_mailbox(dev):
    env = env_of(dev.container("itstack-dev-zammad-init"))
    job = env_of(mailbox_jobs(dev, "dev")["zammad"])
    assert env["ITSTACK_SMTP_USER"] == job["MAILBOX"] == f"zammad@{DOMAIN}"
    assert env["ITSTACK_SMTP_PASSWORD"] == job["MAILBOX_PASSWORD"]
    assert env["ITSTACK_SMTP_HOST"] == "itstack-dev-iredmail" and env["ITSTACK_SMTP_PORT"] == "587"
    assert dev.before(mailbox_jobs(dev, "dev")["zammad"].urn, dev.container("itstack-dev-zammad-init").urn)


def test_zammad_route_health_and_order(dev):
    routes = dynamic_routes(dev, "dev")
    assert routes["routers"]["zammad"]["rule"] == f"Host(`desk.{DOMAIN}`)"
    assert routes["services"]["zammad"]["loadBalancer"]["servers"][0]["url"] == \
        f"http://itstack-dev-zammad-nginx:{zammad_mod.NGINX_PORT}"
    rails = dev.container("itstack-dev-zammad-railsserver")
    assert "/api/v1/monitoring/health_check?token=$ITSTACK_MONITORING_TOKEN" in checks(rails)
    assert env_of(rails)["ITSTACK_MONITORING_TOKEN"] == _result(dev, "zammad-monitoring-token")
    assert env_of(dev.container("itstack-dev-zammad-init"))["ITSTACK_MONITORING_TOKEN"] == \
        env_of(rails)["ITSTACK_MONITORING_TOKEN"]
    assert "background-worker" in checks(dev.container("itstack-dev-zammad-scheduler"))
    assert "/dev/tcp/127.0.0.1/6042" in checks(dev.container("itstack-dev-zammad-websocket"))
    nginx = dev.container("itstack-dev-zammad-nginx")
    assert f"127.0.0.1:{zammad_mod.NGINX_PORT}/" in checks(nginx)
    nenv = env_of(nginx)
    assert nenv["ZAMMAD_RAILSSERVER_HOST"] == "itstack-dev-zammad-railsserver"
    assert nenv["ZAMMAD_WEBSOCKET_HOST"] == "itstack-dev-zammad-websocket" and nenv["NGINX_SERVER_SCHEME"] == "https"
    init = dev.container("itstack-dev-zammad-init")
    assert dev.before(dev.named("postgresql:index/grant:Grant", "postgresql-zammad-revoke-public").urn, init.urn)
    assert dev.before(dev.container("itstack-dev-elasticsearch").urn, init.urn)
    assert dev.before(init.urn, rails.urn) and dev.before(rails.urn, nginx.urn)
    assert dev.before(dev.container("itstack-dev-zammad-websocket").urn, nginx.urn)


def test_zammad_processes_share_storage_and_cache_volumes(dev):
    for c in zammad_containers(dev, "dev")[:-1]:
        vols = {v["containerPath"]: v["volumeName"] for v in c.inputs["volumes"]}
        assert vols == {"/opt/zammad/storage": "itstack-dev-zammad-storage", "/opt/zammad/tmp": "itstack-dev-zammad-tmp"}


# ---------------------------------------------------------------- FreePBX


def test_freepbx_uses_its_own_mariadb_database(dev):
    db = [r for r in dev.of_type(MARIADB_DB) if r.name == "mariadb-freepbx"][0]
    env = env_of(dev.container("itstack-dev-freepbx"))
    assert env["DB_EMBEDDED"] == "FALSE"
    assert env["DB_NAME"] == db.inputs["database"] == "freepbx"
    assert env["DB_USER"] == db.inputs["user"] == "freepbx_user"
    assert env["DB_PASS"] == db.inputs["password"] == _result(dev, "mariadb-freepbx-password")
    assert env["DB_HOST"] == "itstack-dev-mariadb" and env["DB_PORT"] == "3306"
    others = {v for k, v in all_passwords(dev).items() if k not in (
        "mariadb-freepbx-password", "iredmail-freepbx-mailbox-password")}
    assert not set(env.values()) & others
    assert "password" in db.secret_inputs and "envs" in dev.container("itstack-dev-freepbx").secret_inputs


def test_freepbx_sip_and_small_rtp_range_on_the_host_address(dev, prod):
    n_rtp = freepbx_mod.RTP_PORTS[1] - freepbx_mod.RTP_PORTS[0] + 1
    assert n_rtp <= 100, "every RTP port is a Docker mapping: keep the range small"
    for ev, stack, address, offset in ((dev, "dev", "127.0.0.1", 10000), (prod, "prod", "10.0.50.16", 0)):
        c = ev.container(f"itstack-{stack}-freepbx")
        ports = c.inputs["ports"]
        sip = [(p["protocol"], p["external"]) for p in ports if p["internal"] == 5060]
        assert sorted(sip) == [("tcp", 5060 + offset), ("udp", 5060 + offset)]
        rtp = [p for p in ports if p.get("protocol") == "udp" and p["internal"] != 5060]
        assert len(rtp) == n_rtp
        assert all(p["internal"] == p["external"] and p["ip"] == address for p in rtp)
        env = env_of(c)
        assert int(env["RTP_START"]) == freepbx_mod.RTP_PORTS[0] + offset == min(p["internal"] for p in rtp)
        assert int(env["RTP_FINISH"]) == freepbx_mod.RTP_PORTS[1] + offset == max(p["internal"] for p in rtp)
        assert all(p["ip"] == address for p in ports)


def test_freepbx_route_health_admin_and_mail(dev):
    routes = dynamic_routes(dev, "dev")
    assert routes["routers"]["freepbx"]["rule"] == f"Host(`pbx.{DOMAIN}`)"
    assert routes["services"]["freepbx"]["loadBalancer"]["servers"][0]["url"] == "http://itstack-dev-freepbx:80"
    c = dev.container("itstack-dev-freepbx")
    assert "/admin/config.php" in checks(c) and "core show version" in checks(c)
    assert c.inputs["waitTimeout"] >= 2400, "first start installs FreePBX (10-40 min)"
    job = dev.container("itstack-dev-freepbx-admin-user")
    jenv = env_of(job)
    assert jenv["ADMIN_PASSWORD"] == _result(dev, "freepbx-admin-password") and "envs" in job.secret_inputs
    assert jenv["DB_PASS"] == env_of(c)["DB_PASS"]
    assert "INSERT INTO ampusers" in job.inputs["command"][0]
    assert dev.before(c.urn, job.urn)
    env = env_of(c)
    mbox = env_of(mailbox_jobs(dev, "dev")["freepbx"])
    assert env["SMTP_USER"] == mbox["MAILBOX"] == f"freepbx@{DOMAIN}" and env["SMTP_PASS"] == mbox["MAILBOX_PASSWORD"]
    assert env["SMTP_PORT"] == "587" and env["SMTP_STARTTLS"] == "TRUE" and env["SMTP_AUTHENTICATION"] == "on"


def test_freepbx_directory_values_are_exported_without_secrets(dev):
    out = dev.platform.outputs["freepbx"]
    assert out["directory"]["bind_dn"].startswith("uid=keycloak,cn=sysaccounts")
    assert "pw-" not in json.dumps(out)
    nets = {n["name"] for n in dev.container("itstack-dev-freepbx").inputs["networksAdvanced"]}
    assert "itstack-dev-identity" in nets  # the LDAP server is reachable from the PBX


# ---------------------------------------------------------------- placement and cross-checks


def test_prod_placement_and_cross_host_addresses(prod):
    for name, host in (("itstack-prod-iredmail", "lab-comm1"), ("itstack-prod-zammad-railsserver", "lab-comm1"),
                       ("itstack-prod-zammad-nginx", "lab-comm1"), ("itstack-prod-freepbx", "lab-pbx1")):
        assert "docker-" + host in prod.container(name).provider, name
    env = env_of(prod.container("itstack-prod-zammad-railsserver"))
    assert env["POSTGRESQL_HOST"] == "10.0.50.12" and env["ELASTICSEARCH_HOST"] == "10.0.50.12"
    penv = env_of(prod.container("itstack-prod-freepbx"))
    assert penv["DB_HOST"] == "10.0.50.12"
    # FreePBX (lab-pbx1) reaches mail on lab-comm1 by address.
    assert penv["SMTP_HOST"] == "10.0.50.14" and penv["SMTP_PORT"] == "587"
    routes = dynamic_routes(prod, "prod")
    assert routes["services"]["zammad"]["loadBalancer"]["servers"][0]["url"] == \
        f"http://10.0.50.14:{zammad_mod.NGINX_PORT}"


def test_no_other_container_publishes_a_host_port_of_this_tier(dev, prod):
    mine = ("iredmail", "zammad", "freepbx")
    for ev in (dev, prod):
        owners: dict = {}
        for c in ev.containers():
            for p in c.inputs.get("ports") or []:
                key = (c.provider.rsplit("::", 1)[0], p["ip"], p["external"], p.get("protocol") or "tcp")
                owners.setdefault(key, []).append(c.inputs["name"])
        clashes = {k: v for k, v in owners.items()
                   if len(v) > 1 and any(n.split("-")[2] in mine for n in v)}
        assert not clashes, clashes


def test_outputs_and_integrations(dev):
    applied = {i["id"] for i in dev.platform.integrations.applied()}
    for iid in ("sso:keycloak->zammad", "database:postgresql->zammad", "cache:redis->zammad",
                "search:elasticsearch->zammad", "directory:freeipa->zammad", "email:iredmail->zammad",
                "database:mariadb->freepbx", "email:iredmail->freepbx", "ingress:traefik->iredmail"):
        assert iid in applied, iid
    assert dev.platform.outputs["zammad"]["client_id"] == "zammad"
    assert dev.platform.outputs["iredmail"]["submission"]["port"] == 10587
    for svc in ("iredmail", "zammad", "freepbx"):
        assert "pw-" not in json.dumps(dev.platform.outputs[svc], default=str)


def test_zammad_rails_health_needs_healthy_true(dev):
    """Every health_check answer carries the key "healthy"; only its value says healthy."""
    rails = dev.container("itstack-dev-zammad-railsserver")
    check = " ".join(rails.inputs["healthcheck"]["tests"])
    assert "grep -q '\"healthy\":true'" in check and "grep -q '\"healthy\"'" not in check


def test_zammad_sets_fqdn_and_scheme_in_its_database_not_in_env(dev):
    from components.communications import zammad

    for role in ("init", "railsserver", "scheduler", "websocket", "nginx"):
        env = dict(e.split("=", 1) for e in dev.container(f"itstack-dev-zammad-{role}").inputs["envs"])
        assert "ZAMMAD_FQDN" not in env and "ZAMMAD_HTTP_TYPE" not in env
    assert "Setting.set('fqdn', env('ITSTACK_FQDN'))" in zammad.SETUP_SOURCE
    assert "Setting.set('http_type', 'https')" in zammad.SETUP_SOURCE


def test_iredmail_docstring_names_the_plain_http_port():
    from components.communications import iredmail

    assert f"WEB_PORT ({iredmail.WEB_PORT})" in iredmail.__doc__
    assert "server on 8080" not in iredmail.__doc__


def test_communications_doc_matches_the_code():
    from components.data import redis

    doc = (Path(__file__).resolve().parent.parent / "docs" / "services" / "communications.md").read_text()
    assert "+keys" in Path(redis.__file__).read_text()
    assert "Until the data tier grants `+keys`" not in doc
    assert "Pulumi transformation" not in doc and "_udp_ports" not in doc
    assert '`"healthy":true`' in doc


def test_zammad_scheduler_does_not_wait_for_rails(dev):
    """health_check answers "healthy":false ("scheduler not running") until the scheduler has run:
    a scheduler created only after rails is healthy would never start."""
    rails = dev.container("itstack-dev-zammad-railsserver")
    scheduler = dev.container("itstack-dev-zammad-scheduler")
    init = dev.named("docker:index/container:Container", "zammad-init")
    assert not dev.before(rails.urn, scheduler.urn)
    assert dev.before(init.urn, scheduler.urn) and dev.before(init.urn, rails.urn)
