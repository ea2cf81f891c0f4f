"""The business tier under mocks: SuiteCRM, Odoo and OpenKM each get their own database, their own
Keycloak client (where the edition allows), their own mailbox, a route, a real health check, and
keep every credential secret."""
import configparser
import json
import py_compile
import subprocess
import sys
import types
from pathlib import Path

import pytest

import harness
from harness import evaluate, stack_config

BUSINESS = ("suitecrm", "odoo", "openkm")
FILES = Path(__file__).resolve().parent.parent / "components" / "business" / "files"
IDP_CERT = harness.REALM_CERT


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def env_of(c) -> dict:
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def uploads_of(c) -> dict:
    return {u["file"]: u.get("content") for u in c.inputs.get("uploads") or []}


def dotenv(text: str) -> dict:
    return dict(l.split("=", 1) for l in text.splitlines() if l and not l.startswith("#"))


def odoo_conf(c) -> dict:
    p = configparser.ConfigParser(interpolation=None)
    p.read_string(uploads_of(c)["/etc/odoo/odoo.conf"])
    return dict(p["options"])


def service_containers(ev, service):
    return [c for c in ev.containers() if c.inputs["labels"][0]["value"] == service]


def all_passwords(ev) -> dict:
    return {r.name: r.inputs["password"] for r in ev.of_type("postgresql:index/role:Role")} | {
        r.name: r.inputs["password"] for r in ev.of_type("pulumi-python:dynamic:Resource")
        if r.name.startswith("mariadb-") and "password" in r.inputs}


def blob(c) -> str:
    return json.dumps([c.inputs.get("envs"), c.inputs.get("uploads"), c.inputs.get("command")])


# --- databases -------------------------------------------------------------------------------

def test_suitecrm_gets_its_own_mariadb_database_and_no_other(dev):
    c = dev.container("itstack-dev-suitecrm")
    env = env_of(c)
    db = dev.named("pulumi-python:dynamic:Resource", "mariadb-suitecrm")
    assert env["SUITECRM_DATABASE_HOST"] == "itstack-dev-mariadb" and env["SUITECRM_DATABASE_PORT_NUMBER"] == "3306"
    assert env["SUITECRM_DATABASE_NAME"] == db.inputs["database"] == "suitecrm"
    assert env["SUITECRM_DATABASE_USER"] == db.inputs["user"] == "suitecrm_user"
    assert env["SUITECRM_DATABASE_PASSWORD"] == db.inputs["password"]
    others = {n: p for n, p in all_passwords(dev).items() if n != "mariadb-suitecrm"}
    assert others and not any(p in blob(c) for p in others.values())
    assert dev.before(db.urn, c.urn), "the database and user exist before SuiteCRM's installer runs"


def test_odoo_gets_its_own_postgresql_database_and_no_other(dev):
    role = dev.named("postgresql:index/role:Role", "postgresql-odoo-role")
    for c in service_containers(dev, "odoo"):  # the server and its init job
        conf = odoo_conf(c)
        assert conf["db_host"] == "itstack-dev-postgresql" and conf["db_port"] == "5432"
        assert conf["db_name"] == "odoo" and conf["dbfilter"] == "^odoo$" and conf["list_db"] == "False"
        assert conf["db_user"] == role.inputs["name"] == "odoo_user"
        assert conf["db_password"] == role.inputs["password"]
        others = {n: p for n, p in all_passwords(dev).items() if n != "postgresql-odoo-role"}
        assert not any(p in blob(c) for p in others.values()), c.inputs["name"]
    assert role.inputs["createDatabase"] is False, "Odoo runs on the database it is given"


def test_openkm_gets_its_own_postgresql_database_and_no_other(dev):
    c = dev.container("itstack-dev-openkm")
    env = env_of(c)
    role = dev.named("postgresql:index/role:Role", "postgresql-openkm-role")
    assert (env["OKM_DB_HOST"], env["OKM_DB_PORT"], env["OKM_DB_NAME"]) == ("itstack-dev-postgresql", "5432", "openkm")
    assert env["OKM_DB_USER"] == role.inputs["name"] and env["OKM_DB_PASSWORD"] == role.inputs["password"]
    others = {n: p for n, p in all_passwords(dev).items() if n != "postgresql-openkm-role"}
    assert not any(p in blob(c) for p in others.values())
    script = uploads_of(c)["/opt/itstack/openkm-start.sh"]
    assert "jdbc/OpenKMDS" in script and "org.postgresql.Driver" in script and "PostgreSQLDialect" in script


def test_business_containers_join_the_data_network(dev):
    for name in ("suitecrm", "odoo", "openkm"):
        nets = [n["name"] for n in dev.container(f"itstack-dev-{name}").inputs["networksAdvanced"]]
        assert "itstack-dev-business" in nets and "itstack-dev-data" in nets, name


# --- single sign-on --------------------------------------------------------------------------

def test_suitecrm_saml_client_id_is_the_entity_id_suitecrm_sends(dev):
    c = dev.container("itstack-dev-suitecrm")
    settings = dotenv(uploads_of(c)["/opt/itstack/suitecrm.env.local"])
    client = dev.named("keycloak:saml/client:Client", "saml-crm")
    assert settings["AUTH_TYPE"] == "saml"
    assert client.inputs["clientId"] == settings["SAML_SP_ENTITY_ID"] == "https://crm.it-stack.lab/saml/metadata"
    assert client.inputs["assertionConsumerPostUrl"] == f"{settings['SITE_URL']}/saml/acs"
    assert client.inputs["signDocuments"] and client.inputs["signAssertions"]
    assert settings["SAML_WANT_ASSERTIONS_SIGNED"] == "true" and settings["SAML_WANT_MESSAGES_SIGNED"] == "true"
    assert settings["SAML_IDP_ENTITY_ID"] == "https://sso.it-stack.lab/realms/it-stack"
    assert settings["SAML_IDP_SSO_URL"] == "https://sso.it-stack.lab/realms/it-stack/protocol/saml"
    # The realm's signing certificate reaches SuiteCRM, so it can verify Keycloak's signatures.
    assert settings["SAML_IDP_X509CERT"] == IDP_CERT
    # Users are matched on the uid attribute Keycloak releases, and created on first login.
    mappers = {r.inputs["samlAttributeName"] for r in dev.of_type("keycloak:saml/userPropertyProtocolMapper:UserPropertyProtocolMapper")
               if r.name.startswith("saml-crm-")}
    assert settings["SAML_USERNAME_ATTRIBUTE"] in mappers
    assert settings["SAML_USE_ATTRIBUTE_FRIENDLY_NAME"] == "false"
    amap = json.loads(settings["SAML_AUTOCREATE_ATTRIBUTES_MAP"].strip("'"))
    assert set(amap) <= mappers and amap["mail"] == "email1"
    role = dev.named("keycloak:index/role:Role", "saml-crm-role-suitecrm-admin")
    assert role.inputs["name"] == "suitecrm-admin"
    grant = dev.named("keycloak:index/groupRoles:GroupRoles", "saml-crm-role-suitecrm-admin-group")
    assert grant.inputs["groupId"] == dev.named("keycloak:index/group:Group", "group-suitecrm-admin").name + "-id"


def test_suitecrm_start_script_applies_the_settings_on_every_start(dev):
    c = dev.container("itstack-dev-suitecrm")
    assert c.inputs["entrypoints"] == ["/bin/bash", "/opt/itstack/suitecrm-start.sh"]
    script = uploads_of(c)["/opt/itstack/suitecrm-start.sh"]
    # The image's own setup first, then the settings, then the image's run script.
    order = [script.index(s) for s in ("suitecrm/setup.sh", 'merge_block "${app}/.env.local"', "cache:clear", "exec /opt/bitnami/scripts/suitecrm/run.sh")]
    assert order == sorted(order)
    override = uploads_of(c)["/opt/itstack/config_override.php"]
    assert "$sugar_config['site_url'] = \"https://crm.it-stack.lab\";" in override


def test_odoo_gets_its_own_oidc_client_and_secret(dev):
    client = dev.named("keycloak:openid/client:Client", "oidc-odoo")
    assert client.inputs["clientId"] == "odoo" and client.inputs["accessType"] == "CONFIDENTIAL"
    assert client.inputs["validRedirectUris"] == ["https://erp.it-stack.lab/auth_oauth/signin"]
    assert client.inputs["standardFlowEnabled"] is True
    for c in service_containers(dev, "odoo"):
        conf = odoo_conf(c)
        assert conf["itstack_oidc_client_id"] == client.inputs["clientId"]
        assert conf["itstack_oidc_client_secret"] == client.inputs["clientSecret"]
        assert conf["itstack_oidc_redirect_uri"] in client.inputs["validRedirectUris"]
        assert conf["itstack_oidc_auth_endpoint"] == "https://sso.it-stack.lab/realms/it-stack/protocol/openid-connect/auth"
        # Back channel: Keycloak's container on the same host.
        assert conf["itstack_oidc_token_endpoint"] == "http://itstack-dev-keycloak:8080/realms/it-stack/protocol/openid-connect/token"
        assert conf["itstack_oidc_userinfo_endpoint"].endswith("/protocol/openid-connect/userinfo")
    other_secrets = [r.inputs["clientSecret"] for r in dev.of_type("keycloak:openid/client:Client")
                     if r.name != "oidc-odoo" and r.inputs.get("clientSecret")]
    assert not any(s in blob(dev.container("itstack-dev-odoo")) for s in other_secrets)
    nets = [n["name"] for n in dev.container("itstack-dev-odoo").inputs["networksAdvanced"]]
    assert "itstack-dev-identity" in nets


def test_odoo_roles_come_from_directory_groups(dev):
    for role in ("odoo-admin", "odoo-user", "odoo-portal"):
        r = dev.named("keycloak:index/role:Role", f"oidc-odoo-role-{role}")
        assert r.inputs["name"] == role
        g = dev.named("keycloak:index/groupRoles:GroupRoles", f"oidc-odoo-role-{role}-group")
        assert g.inputs["groupId"] == f"group-{role}-id"
    mapper = dev.named("keycloak:openid/userClientRoleProtocolMapper:UserClientRoleProtocolMapper", "oidc-odoo-roles")
    assert mapper.inputs["claimName"] == "roles"
    addon = uploads_of(dev.container("itstack-dev-odoo"))["/opt/itstack/odoo-addons/itstack_keycloak/models/res_users.py"]
    assert 'validation.get("roles")' in addon
    for role in ("odoo-admin", "odoo-user", "odoo-portal"):
        assert f'"{role}"' in addon
    assert "base.group_system" in addon and "base.group_portal" in addon


def test_odoo_init_job_installs_and_configures_before_the_server(dev):
    job = dev.container("itstack-dev-odoo-init")
    server = dev.container("itstack-dev-odoo")
    assert job.inputs["attach"] is True and job.inputs["mustRun"] is False
    script = job.inputs["command"][0]
    assert "-i auth_oauth,itstack_keycloak" in script and "--stop-after-init" in script
    assert "odoo shell" in script and "/opt/itstack/odoo-configure.py" in script
    assert "/opt/itstack/odoo-configure.py" in uploads_of(job)
    assert dev.before(job.urn, server.urn)
    assert dev.before(dev.named("postgresql:index/grant:Grant", "postgresql-odoo-revoke-public").urn, job.urn)
    # Both mount the same filestore volume; the server runs odoo itself, not the image's entrypoint.
    assert job.inputs["volumes"][0]["volumeName"] == server.inputs["volumes"][0]["volumeName"] == "itstack-dev-odoo-data"
    assert server.inputs["entrypoints"] == ["odoo"] and server.inputs["command"] == ["-c", "/etc/odoo/odoo.conf"]
    assert odoo_conf(server)["proxy_mode"] == "True" and odoo_conf(server)["without_demo"] == "all"


def test_openkm_has_no_sso_client(dev):
    clients = [r.inputs["clientId"] for r in dev.of_type("keycloak:openid/client:Client")] + \
              [r.inputs["clientId"] for r in dev.of_type("keycloak:saml/client:Client")]
    assert not any("dms." in c or c == "openkm" for c in clients)
    assert not any(i["target"] == "openkm" and i["kind"] == "sso" for i in dev.platform.integrations.applied())


def test_sso_switched_off_gives_native_logins():
    raw = {**stack_config("dev"), "integrations": {"disabled": ["sso:keycloak->suitecrm", "sso:keycloak->odoo"]}}
    ev = evaluate("dev", raw)
    assert not ev.of_type("keycloak:saml/client:Client") or all(
        "crm." not in r.inputs["clientId"] for r in ev.of_type("keycloak:saml/client:Client"))
    assert "odoo" not in [r.inputs["clientId"] for r in ev.of_type("keycloak:openid/client:Client")]
    crm = ev.container("itstack-dev-suitecrm")
    assert dotenv(uploads_of(crm)["/opt/itstack/suitecrm.env.local"])["AUTH_TYPE"] == "native"
    assert "/saml/metadata" not in " ".join(crm.inputs["healthcheck"]["tests"])
    assert not any(k.startswith("itstack_oidc") for k in odoo_conf(ev.container("itstack-dev-odoo")))


# --- mail ------------------------------------------------------------------------------------

def _mailbox_password(ev, service):
    job = ev.container(f"itstack-dev-iredmail-account-{service}")
    return env_of(job)["MAILBOX_PASSWORD"]


def test_each_app_sends_mail_through_its_own_mailbox(dev):
    crm = env_of(dev.container("itstack-dev-suitecrm"))
    assert crm["SUITECRM_SMTP_USER"] == "suitecrm@it-stack.lab" and crm["SUITECRM_SMTP_PORT_NUMBER"] == "587"
    assert crm["SUITECRM_SMTP_PROTOCOL"] == "tls"
    assert crm["SUITECRM_SMTP_PASSWORD"] == _mailbox_password(dev, "suitecrm")
    conf = odoo_conf(dev.container("itstack-dev-odoo"))
    assert conf["smtp_user"] == "odoo@it-stack.lab" and conf["smtp_port"] == "587" and conf["smtp_ssl"] == "True"
    assert conf["smtp_password"] == _mailbox_password(dev, "odoo")
    okm = env_of(dev.container("itstack-dev-openkm"))
    assert okm["OKM_SMTP_USER"] == "openkm@it-stack.lab" and okm["OKM_SMTP_PASSWORD"] == _mailbox_password(dev, "openkm")
    assert crm["SUITECRM_SMTP_PASSWORD"] != conf["smtp_password"]


def test_mail_switched_off_leaves_no_smtp_settings():
    raw = {**stack_config("dev"), "integrations": {"disabled": [f"email:iredmail->{s}" for s in BUSINESS]}}
    ev = evaluate("dev", raw)
    assert not any(k.startswith("SUITECRM_SMTP") for k in env_of(ev.container("itstack-dev-suitecrm")))
    assert "smtp_server" not in odoo_conf(ev.container("itstack-dev-odoo"))
    assert "OKM_SMTP_HOST" not in env_of(ev.container("itstack-dev-openkm"))


# --- routes and health -----------------------------------------------------------------------

def test_routes_in_traefik(dev):
    t = dev.container("itstack-dev-traefik")
    dynamic = json.loads(uploads_of(t)["/etc/traefik/dynamic.yml"])
    expected = {"suitecrm": ("crm", "http://itstack-dev-suitecrm:8080"),
                "odoo": ("erp", "http://itstack-dev-odoo:8069"),
                "openkm": ("dms", "http://itstack-dev-openkm:8080")}
    for svc, (sub, backend) in expected.items():
        assert dynamic["http"]["routers"][svc]["rule"] == f"Host(`{sub}.it-stack.lab`)"
        assert dynamic["http"]["services"][svc]["loadBalancer"]["servers"][0]["url"] == backend


def test_health_checks_prove_each_app_answers(dev):
    checks = {s: " ".join(dev.container(f"itstack-dev-{s}").inputs["healthcheck"]["tests"]) for s in BUSINESS}
    assert "127.0.0.1:8080/saml/metadata" in checks["suitecrm"] and "EntityDescriptor" in checks["suitecrm"]
    assert "127.0.0.1:8069/web/health" in checks["odoo"] and "pass" in checks["odoo"]
    assert "/OpenKM/login.jsp" in checks["openkm"] and "' 200'" in checks["openkm"]
    for s in BUSINESS:
        c = dev.container(f"itstack-dev-{s}")
        assert c.inputs["wait"] is True and c.inputs["restart"] == "unless-stopped"


def test_start_scripts_and_addon_are_valid(tmp_path):
    for script in ("suitecrm-start.sh", "openkm-start.sh"):
        subprocess.run(["bash", "-n", str(FILES / script)], check=True)
    for py in sorted((FILES / "odoo").rglob("*.py")):
        py_compile.compile(str(py), cfile=str(tmp_path / (py.name + "c")), doraise=True)


def test_odoo_login_links_use_the_code_flow(monkeypatch):
    """The addon's controller, run against stand-ins for the Odoo modules it imports."""
    conf = {"itstack_oidc_client_id": "odoo", "itstack_oidc_redirect_uri": "https://erp.example/auth_oauth/signin"}

    class OAuthLogin:
        def list_providers(self):
            return [{"client_id": "odoo", "auth_link": "https://sso/auth?response_type=token&client_id=odoo"
                                                      "&redirect_uri=http%3A%2F%2Finternal%2Fauth_oauth%2Fsignin&scope=openid"},
                    {"client_id": "other", "auth_link": "https://other/auth?response_type=token"}]

    stubs = {"odoo": types.ModuleType("odoo"), "odoo.tools": types.ModuleType("odoo.tools"),
             "odoo.addons": types.ModuleType("odoo.addons"), "odoo.addons.auth_oauth": types.ModuleType("a"),
             "odoo.addons.auth_oauth.controllers": types.ModuleType("c"),
             "odoo.addons.auth_oauth.controllers.main": types.ModuleType("m")}
    stubs["odoo.tools"].config = conf
    stubs["odoo.addons.auth_oauth.controllers.main"].OAuthLogin = OAuthLogin
    for k, v in stubs.items():
        monkeypatch.setitem(sys.modules, k, v)
    ns: dict = {}
    exec(compile((FILES / "odoo/itstack_keycloak/controllers/main.py").read_text(), "main.py", "exec"), ns)
    ours, other = ns["ItstackOAuthLogin"]().list_providers()
    from urllib.parse import parse_qs, urlsplit
    q = parse_qs(urlsplit(ours["auth_link"]).query)
    assert q["response_type"] == ["code"] and q["redirect_uri"] == [conf["itstack_oidc_redirect_uri"]]
    assert q["client_id"] == ["odoo"] and q["scope"] == ["openid"]
    assert other["auth_link"] == "https://other/auth?response_type=token"


# --- secrets and placement -------------------------------------------------------------------

def test_business_secrets_stay_secret(dev):
    for s in BUSINESS:
        for c in service_containers(dev, s):
            if c.inputs.get("envs"):
                assert "envs" in c.secret_inputs, c.inputs["name"]
            if c.inputs.get("uploads"):
                assert "uploads" in c.secret_inputs, c.inputs["name"]
            for label in c.inputs.get("labels") or []:
                assert not str(label["value"]).startswith("pw-")
    for name in ("suitecrm-admin-password", "odoo-master-password", "odoo-admin-password"):
        assert dev.named("random:index/randomPassword:RandomPassword", name)
    conf = odoo_conf(dev.container("itstack-dev-odoo"))
    assert conf["admin_passwd"].startswith("pw-") and conf["itstack_admin_password"].startswith("pw-")
    assert conf["admin_passwd"] != conf["itstack_admin_password"]
    assert env_of(dev.container("itstack-dev-suitecrm"))["SUITECRM_PASSWORD"].startswith("pw-")


def test_outputs_name_the_urls_and_no_secret(dev):
    out = dev.platform.outputs
    assert out["suitecrm"]["url"] == "https://crm.it-stack.lab"
    assert out["suitecrm"]["saml_entity_id"] == "https://crm.it-stack.lab/saml/metadata"
    assert out["odoo"]["client_id"] == "odoo" and out["openkm"]["url"] == "https://dms.it-stack.lab/OpenKM/"
    assert "pw-" not in json.dumps({s: out[s] for s in BUSINESS})


def test_prod_places_the_business_tier_on_lab_biz1(prod):
    for s in BUSINESS:
        cs = service_containers(prod, s)
        assert cs
        for c in cs:
            assert "docker-lab-biz1" in c.provider, (c.inputs["name"], c.provider)
    crm = env_of(prod.container("itstack-prod-suitecrm"))
    assert (crm["SUITECRM_DATABASE_HOST"], crm["SUITECRM_DATABASE_PORT_NUMBER"]) == ("10.0.50.12", "3306")
    conf = odoo_conf(prod.container("itstack-prod-odoo"))
    assert conf["db_host"] == "10.0.50.12"
    assert conf["itstack_oidc_token_endpoint"].startswith("http://10.0.50.11:8080/realms/it-stack/")
    assert env_of(prod.container("itstack-prod-openkm"))["OKM_DB_HOST"] == "10.0.50.12"
    vols = [v for v in prod.of_type("docker:index/volume:Volume") if v.name.split("-")[0] in BUSINESS]
    assert {v.name for v in vols} == {"suitecrm-data", "odoo-data", "openkm-repository", "openkm-jdbc"}
    assert all(v.protect for v in vols)
    dynamic = json.loads(uploads_of(prod.container("itstack-prod-traefik"))["/etc/traefik/dynamic.yml"])
    assert dynamic["http"]["services"]["odoo"]["loadBalancer"]["servers"][0]["url"] == "http://10.0.50.17:8069"


def test_suitecrm_sessions_are_not_bound_to_the_proxy_address(dev):
    """SUITECRM_VALIDATE_USER_IP: the image accepts only true|false and SuiteCRM 8 never uses it; the
    legacy setting verify_client_ip is what pins sessions to an address, so it goes in the override."""
    crm = dev.container("itstack-dev-suitecrm")
    value = env_of(crm).get("SUITECRM_VALIDATE_USER_IP")
    assert value in (None, "true", "false")
    override = uploads_of(crm)["/opt/itstack/config_override.php"]
    assert "$sugar_config['verify_client_ip'] = false;" in override
    assert override.index("# >>> itstack") < override.index("verify_client_ip") < override.index("# <<< itstack")


def test_openkm_gets_the_postgresql_jdbc_driver_tomcat_needs(dev):
    from components.business import openkm

    job = dev.container("itstack-dev-openkm-jdbc")
    script = job.inputs["command"][0]
    assert openkm.JDBC_URL in script and f'echo "{openkm.JDBC_SHA256}  $jar.part" | sha256sum -c -' in script
    assert openkm.JDBC_URL.startswith("https://repo1.maven.org/maven2/org/postgresql/postgresql/")
    assert job.inputs["user"] == "root" and job.inputs["mustRun"] is False and job.inputs["attach"] is True
    dms = dev.container("itstack-dev-openkm")
    mounts = {v["containerPath"]: v for v in dms.inputs["volumes"]}
    assert mounts[openkm.JDBC_DIR]["readOnly"] is True
    assert mounts[openkm.JDBC_DIR]["volumeName"] == {v["containerPath"]: v for v in job.inputs["volumes"]}["/jdbc"]["volumeName"]
    assert env_of(dms)["ITSTACK_JDBC_JAR"] == f"{openkm.JDBC_DIR}/{openkm.JDBC_JAR}"
    assert dev.before(job.urn, dms.urn)
    start = uploads_of(dms)[openkm.START_SCRIPT]
    # The driver is in place before Tomcat starts.
    assert start.index('cp "$ITSTACK_JDBC_JAR"') < start.index("catalina.sh")


def test_openkm_start_script_installs_the_driver_only_when_tomcat_lacks_one(tmp_path):
    """Run the driver step of openkm-start.sh against a scratch Tomcat home."""
    from components.business import openkm

    text = (Path(openkm.__file__).parent / "files" / "openkm-start.sh").read_text()
    step = text[text.index("# Tomcat loads the JNDI"):text.index('ds="<Resource')]
    jar = tmp_path / "postgresql-42.7.4.jar"
    jar.write_text("jar")
    home = tmp_path / "tomcat"
    (home / "lib").mkdir(parents=True)
    run = lambda: subprocess.run(["bash", "-c", f'set -eu; home="{home}"\n' + step],  # noqa: E731
                                 env={"ITSTACK_JDBC_JAR": str(jar), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert run().returncode == 0 and (home / "lib" / jar.name).read_text() == "jar"
    (home / "lib" / jar.name).write_text("image's own")
    assert run().returncode == 0 and (home / "lib" / jar.name).read_text() == "image's own"
    (home / "lib" / jar.name).unlink()
    jar.unlink()
    out = run()
    assert out.returncode != 0 and "no PostgreSQL JDBC driver" in out.stderr


def test_odoo_upgrade_warning_is_documented():
    """The addon relies on res_users.oauth_access_token, which later Odoo replaces by a hash column."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "services" / "business.md").read_text()
    section = doc[doc.index("### Upgrading Odoo"):]
    assert "oauth_access_token" in section and "18" in section


def test_openkm_health_probe_runs_in_its_own_bash(dev):
    """Exec form: the probe (with its own single quotes) reaches bash as one argument."""
    from components.business import openkm

    tests = dev.container("itstack-dev-openkm").inputs["healthcheck"]["tests"]
    assert tests == ["CMD", "bash", "-c", openkm.LOGIN_PROBE]
    assert "/OpenKM/login.jsp" in openkm.LOGIN_PROBE and "' 200'" in openkm.LOGIN_PROBE
