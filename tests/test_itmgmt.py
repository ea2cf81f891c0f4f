"""IT-management tier (Taiga, Snipe-IT, GLPI) under mocks: own databases, own SSO clients,
routes, health checks, secrets, prod placement, and the Taiga login plugin's policy."""
import base64
import importlib.util
import json
import py_compile
from pathlib import Path

import pytest

from harness import evaluate, stack_config

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "components" / "itmgmt" / "files"
SERVICES = ("taiga", "snipeit", "glpi")


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def service_of(c):
    return c.inputs["labels"][0]["value"]


def containers_of(ev, service):
    return [c for c in ev.containers() if service_of(c) == service]


def env(c) -> dict:
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def uploads(c) -> dict:
    return {u["file"]: u.get("content") for u in c.inputs.get("uploads") or []}


def db_passwords(ev) -> dict:
    """Database name -> its owner's password, from the data tier's own records."""
    out = {r.inputs["name"].removesuffix("_user"): r.inputs["password"]
           for r in ev.of_type("postgresql:index/role:Role")}
    out.update({r.inputs["database"]: r.inputs["password"]
                for r in ev.of_type("pulumi-python:dynamic:Resource") if r.name.startswith("mariadb-")})
    return out


def traefik_services(ev):
    t = next(c for c in ev.containers() if service_of(c) == "traefik")
    dyn = json.loads(uploads(t)["/etc/traefik/dynamic.yml"])
    return dyn["http"]["routers"], dyn["http"]["services"]


# --- databases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("service,prefix,engine", [("taiga", "POSTGRES_", "pg"), ("snipeit", "DB_", "maria"),
                                                    ("glpi", "GLPI_DB_", "maria")])
def test_each_service_gets_its_own_database_and_no_other(dev, service, prefix, engine):
    passwords = db_passwords(dev)
    own = passwords[service]
    others = {name: pw for name, pw in passwords.items() if name != service}
    name_key = {"POSTGRES_": "POSTGRES_DB", "DB_": "DB_DATABASE", "GLPI_DB_": "GLPI_DB_NAME"}[prefix]
    user_key = {"POSTGRES_": "POSTGRES_USER", "DB_": "DB_USERNAME", "GLPI_DB_": "GLPI_DB_USER"}[prefix]
    main = [c for c in containers_of(dev, service) if name_key in env(c)]
    assert main, f"{service}: no container with database settings"
    for c in main:
        e = env(c)
        assert e[name_key] == service and e[user_key] == f"{service}_user", c.inputs["name"]
        assert e[prefix + "PASSWORD"] == own, c.inputs["name"]
    for c in containers_of(dev, service):
        values = set(env(c).values())
        leaked = [name for name, pw in others.items() if pw in values]
        assert not leaked, (c.inputs["name"], leaked)
    host_key = {"POSTGRES_": "POSTGRES_HOST", "DB_": "DB_HOST", "GLPI_DB_": "GLPI_DB_HOST"}[prefix]
    expected_host = "itstack-dev-postgresql" if engine == "pg" else "itstack-dev-mariadb"
    assert all(env(c)[host_key] == expected_host for c in main)


def test_database_integrations_are_recorded(dev):
    applied = {i["id"] for i in dev.platform.integrations.applied()}
    assert {"database:postgresql->taiga", "database:mariadb->snipeit", "database:mariadb->glpi"} <= applied
    assert {"sso:keycloak->taiga", "sso:keycloak->snipeit", "sso:keycloak->glpi"} <= applied
    assert {"directory:freeipa->snipeit", "directory:freeipa->glpi"} <= applied


# --- SSO ---------------------------------------------------------------------------------------

def test_taiga_gets_its_own_oidc_client_and_secret(dev):
    client = dev.named("keycloak:openid/client:Client", "oidc-taiga")
    assert client.inputs["clientId"] == "taiga"
    assert client.inputs["validRedirectUris"] == ["https://pm.it-stack.lab/login"]
    assert "clientSecret" in client.secret_inputs
    back = dev.container("itstack-dev-taiga-back")
    e = env(back)
    assert e["ITSTACK_OIDC_CLIENT_ID"] == client.inputs["clientId"]
    assert e["ITSTACK_OIDC_CLIENT_SECRET"] == client.inputs["clientSecret"]
    # No other client's secret reaches Taiga.
    for other in dev.of_type("keycloak:openid/client:Client"):
        if other.name != "oidc-taiga" and other.inputs.get("clientSecret"):
            assert other.inputs["clientSecret"] not in e.values(), other.name
    # The back talks to Keycloak directly; the redirect URI equals the client's only one.
    assert e["ITSTACK_OIDC_TOKEN_URL"] == (
        "http://itstack-dev-keycloak:8080/realms/it-stack/protocol/openid-connect/token")
    assert e["ITSTACK_OIDC_REDIRECT_URI"] in client.inputs["validRedirectUris"]
    assert e["DJANGO_SETTINGS_MODULE"] == "settings.itstack"
    files = uploads(back)
    assert "/taiga-back/taiga_itstack_oidc/services.py" in files
    assert "taiga_itstack_oidc" in files["/taiga-back/settings/itstack.py"]
    # Client roles for the directory groups, in the token's `roles` claim.
    roles = {r.inputs["name"] for r in dev.of_type("keycloak:index/role:Role") if r.name.startswith("oidc-taiga-")}
    assert roles == {e["ITSTACK_OIDC_USER_ROLE"], e["ITSTACK_OIDC_ADMIN_ROLE"]}
    groups = {r.inputs["name"] for r in dev.of_type("keycloak:index/group:Group")}
    assert {"taiga-users", "taiga-admins"} <= groups


def test_taiga_front_offers_the_sso_button_and_blocks_signup(dev):
    front = dev.container("itstack-dev-taiga-front")
    files = uploads(front)
    conf = json.loads(files["/usr/share/nginx/html/conf.json"])
    assert conf["api"] == "https://pm.it-stack.lab/api/v1/"
    assert conf["eventsUrl"] == "wss://pm.it-stack.lab/events"
    assert conf["contribPlugins"] == ["/plugins/itstack-oidc/itstack-oidc.json"]
    assert conf["itstackOidcAuthUrl"] == "https://sso.it-stack.lab/realms/it-stack/protocol/openid-connect/auth"
    assert conf["itstackOidcRedirectUri"] == "https://pm.it-stack.lab/login"
    assert conf["publicRegisterEnabled"] is False
    manifest = json.loads(files["/usr/share/nginx/html/plugins/itstack-oidc/itstack-oidc.json"])
    assert manifest["type"] == "auth" and manifest["module"] in files[manifest["js"].replace(
        "/plugins", "/usr/share/nginx/html/plugins")]
    gateway = files["/etc/nginx/conf.d/default.conf"]
    assert "location = /api/v1/auth/register" in gateway and "return 403" in gateway
    for target in ("itstack-dev-taiga-back:8000/api/", "itstack-dev-taiga-events:8888/events",
                   "itstack-dev-taiga-protected:8003/"):
        assert f"proxy_pass http://{target}" in gateway


def test_taiga_uses_rabbitmq_for_events_and_async(dev):
    rabbit = dev.container("itstack-dev-taiga-rabbitmq")
    pw = env(rabbit)["RABBITMQ_DEFAULT_PASS"]
    back, worker, events = (env(dev.container(f"itstack-dev-taiga-{r}")) for r in ("back", "async", "events"))
    url = f"amqp://taiga:{pw}@itstack-dev-taiga-rabbitmq:5672/taiga"
    assert back["CELERY_BROKER_URL"] == url and back["EVENTS_PUSH_BACKEND_URL"] == url
    assert worker["CELERY_BROKER_URL"] == url
    assert events["RABBITMQ_PASS"] == pw and events["TAIGA_EVENTS_RABBITMQ_HOST"] == "itstack-dev-taiga-rabbitmq"
    assert events["TAIGA_SECRET_KEY"] == back["TAIGA_SECRET_KEY"]
    assert dev.container("itstack-dev-taiga-async").inputs["entrypoints"] == ["/taiga-back/docker/async_entrypoint.sh"]


@pytest.mark.parametrize("service,name,entity,acs", [
    ("snipeit", "saml-assets", "https://assets.it-stack.lab", "https://assets.it-stack.lab/saml/acs"),
    ("glpi", "saml-itsm", "https://itsm.it-stack.lab/",
     "https://itsm.it-stack.lab/marketplace/samlsso/front/acs/1"),
])
def test_saml_client_id_is_the_entity_id_the_app_sends(dev, service, name, entity, acs):
    client = dev.named("keycloak:saml/client:Client", name)
    assert client.inputs["clientId"] == entity
    assert client.inputs["assertionConsumerPostUrl"] == acs
    job = dev.container(f"itstack-dev-{service}-configure")
    e = env(job)
    if service == "snipeit":
        # Snipe-IT's SP entity id is config('app.url').
        assert env(dev.container("itstack-dev-snipeit"))["APP_URL"] == client.inputs["clientId"]
        assert e["ITSTACK_SAML_IDP_METADATA_URL"] == (
            "http://itstack-dev-keycloak:8080/realms/it-stack/protocol/saml/descriptor")
    else:
        # samlSSO's SP entity id is url_base + "/"; the job sets url_base.
        assert e["ITSTACK_URL"] + "/" == client.inputs["clientId"]
        assert e["ITSTACK_IDP_ENTITY_ID"] == "https://sso.it-stack.lab/realms/it-stack"
    assert e["ITSTACK_SAML_ENABLED"] == "1"


def test_glpi_saml_plugin_is_pinned_by_checksum(dev):
    e = env(dev.container("itstack-dev-glpi-configure"))
    assert "/v1.2.7/" in e["ITSTACK_SAMLSSO_URL"]
    assert len(e["ITSTACK_SAMLSSO_SHA256"]) == 64
    script = uploads(dev.container("itstack-dev-glpi-configure"))["/opt/itstack/configure.sh"]
    assert "sha256sum -c" in script and "user_jit=1" in script
    assert "user:reset_password glpi" in script and "user:disable" in script


def test_directory_groups_map_to_app_roles(dev):
    roles = env(dev.container("itstack-dev-glpi-roles"))
    mapping = json.loads(roles["ITSTACK_ROLE_MAPPING"])
    groups_dn = "cn=groups,cn=accounts,dc=it-stack,dc=lab"
    assert mapping == {f"cn=glpi-admins,{groups_dn}": "Super-Admin", f"cn=glpi-techs,{groups_dn}": "Technician"}
    sync = env(dev.container("itstack-dev-snipeit-ldapsync"))
    assert f"cn=snipeit-users,{groups_dn}" in sync["ITSTACK_LDAP_FILTER"]
    assert sync["ITSTACK_LDAP_ADMIN_GROUP_DN"] == f"cn=snipeit-admins,{groups_dn}"
    fed = dev.named("keycloak:ldap/userFederation:UserFederation", "freeipa-federation")
    assert sync["ITSTACK_LDAP_BIND_DN"] == fed.inputs["bindDn"]
    assert sync["ITSTACK_LDAP_BIND_PASSWORD"] == fed.inputs["bindCredential"]


def test_sso_can_be_switched_off_per_service():
    raw = {**stack_config("dev"), "integrations": {"disabled": ["sso:keycloak->taiga", "sso:keycloak->glpi"]}}
    ev = evaluate("dev", raw)
    assert not [r for r in ev.of_type("keycloak:openid/client:Client") if r.name == "oidc-taiga"]
    assert not [r for r in ev.of_type("keycloak:saml/client:Client") if r.name == "saml-itsm"]
    assert "ITSTACK_OIDC_ENABLED" not in env(ev.container("itstack-dev-taiga-back"))
    conf = json.loads(uploads(ev.container("itstack-dev-taiga-front"))["/usr/share/nginx/html/conf.json"])
    assert conf["contribPlugins"] == []
    assert env(ev.container("itstack-dev-glpi-configure"))["ITSTACK_SAML_ENABLED"] == "0"
    assert ev.named("keycloak:saml/client:Client", "saml-assets")  # Snipe-IT keeps its client


# --- mail ----------------------------------------------------------------------------------------

def test_mail_follows_the_mail_tier(dev):
    mail = dev.platform.mail
    taiga = env(dev.container("itstack-dev-taiga-back"))
    snipe = env(dev.container("itstack-dev-snipeit"))
    glpi = env(dev.container("itstack-dev-glpi-configure"))
    if mail is None:
        assert taiga["EMAIL_BACKEND"].endswith("console.EmailBackend")
        assert snipe["MAIL_MAILER"] == "log" and glpi["ITSTACK_SMTP_ENABLED"] == "0"
        return
    assert taiga["EMAIL_BACKEND"].endswith("smtp.EmailBackend") and taiga["EMAIL_USE_TLS"] == "True"
    assert taiga["EMAIL_HOST_USER"].startswith("taiga@")
    assert snipe["MAIL_USERNAME"].startswith("snipeit@") and snipe["MAIL_ENCRYPTION"] == "tls"
    assert glpi["ITSTACK_SMTP_USER"].startswith("glpi@") and glpi["ITSTACK_SMTP_ENABLED"] == "1"
    assert len({taiga["EMAIL_HOST_PASSWORD"], snipe["MAIL_PASSWORD"], glpi["ITSTACK_SMTP_PASSWORD"]}) == 3


# --- routes and health ---------------------------------------------------------------------------

def test_routes_point_at_each_entry_container(dev):
    routers, services = traefik_services(dev)
    for svc, host, backend in [("taiga", "pm", "itstack-dev-taiga-front"), ("snipeit", "assets", "itstack-dev-snipeit"),
                               ("glpi", "itsm", "itstack-dev-glpi")]:
        assert routers[svc]["rule"] == f"Host(`{host}.it-stack.lab`)"
        assert services[svc]["loadBalancer"]["servers"][0]["url"] == f"http://{backend}:80"


def test_health_checks_prove_each_app_answers(dev):
    def check(name):
        return " ".join(dev.container(name).inputs["healthcheck"]["tests"])
    assert "/api/v1/" in check("itstack-dev-taiga-back") and "projects" in check("itstack-dev-taiga-back")
    assert "conf.json" in check("itstack-dev-taiga-front") and "/api/v1/" in check("itstack-dev-taiga-front")
    assert "3023/healthz" in check("itstack-dev-taiga-events")
    assert "inspect ping" in check("itstack-dev-taiga-async")
    assert "rabbitmq-diagnostics" in check("itstack-dev-taiga-rabbitmq")
    assert "403" in check("itstack-dev-taiga-protected")
    assert "/health" in check("itstack-dev-snipeit") and '"ok"' in check("itstack-dev-snipeit")
    assert "login" in check("itstack-dev-glpi")
    assert "itstack-last-sync" in check("itstack-dev-snipeit-ldapsync")
    for svc in SERVICES:
        for c in containers_of(dev, svc):
            if not (c.inputs.get("attach") and c.inputs.get("mustRun") is False):
                assert c.inputs["wait"] is True, c.inputs["name"]


def test_jobs_wait_for_their_app(dev):
    for svc, app in [("taiga", "itstack-dev-taiga-back"), ("snipeit", "itstack-dev-snipeit"),
                     ("glpi", "itstack-dev-glpi")]:
        job = next(c for c in containers_of(dev, svc) if c.inputs.get("attach"))
        assert dev.before(dev.container(app).urn, job.urn), job.inputs["name"]


# --- secrets -------------------------------------------------------------------------------------

def test_secrets_stay_secret(dev):
    for svc in SERVICES:
        for c in containers_of(dev, svc):
            if c.inputs.get("envs"):
                assert "envs" in c.secret_inputs, c.inputs["name"]
            if c.inputs.get("uploads"):
                assert "uploads" in c.secret_inputs, c.inputs["name"]
            for label in c.inputs["labels"]:
                assert not label["value"].startswith("pw-"), c.inputs["name"]
    names = {r.name for r in dev.of_type("random:index/randomPassword:RandomPassword")}
    assert {"taiga-secret-key", "taiga-rabbitmq-password", "snipeit-app-key", "glpi-admin-password"} <= names


def test_snipeit_app_key_is_a_random_base64_key(dev):
    key = env(dev.container("itstack-dev-snipeit"))["APP_KEY"]
    assert key.startswith("base64:")
    raw = base64.b64decode(key.removeprefix("base64:"))
    pw = dev.named("random:index/randomPassword:RandomPassword", "snipeit-app-key")
    # 32 random characters -> the 32 bytes AES-256-CBC needs (the mock's value is shorter).
    assert pw.inputs["length"] == 32 and pw.inputs["special"] is False
    assert raw.decode().startswith("pw-")
    assert env(dev.container("itstack-dev-snipeit-configure"))["APP_KEY"] == key


def test_no_app_uses_a_default_password(dev):
    admin = env(dev.container("itstack-dev-taiga-admin"))
    assert admin["ITSTACK_LOCAL_ADMIN_PASSWORD"].startswith("pw-")
    assert env(dev.container("itstack-dev-snipeit-configure"))["ITSTACK_ADMIN_PASSWORD"].startswith("pw-")
    assert env(dev.container("itstack-dev-glpi-configure"))["ITSTACK_ADMIN_PASSWORD"].startswith("pw-")


# --- placement -----------------------------------------------------------------------------------

def test_prod_places_the_tier_on_lab_mgmt1_and_crosses_hosts_by_address(prod):
    for svc in SERVICES:
        cs = containers_of(prod, svc)
        assert cs
        for c in cs:
            assert "docker-lab-mgmt1" in c.provider, c.inputs["name"]
    back = env(prod.container("itstack-prod-taiga-back"))
    assert back["POSTGRES_HOST"] == "10.0.50.12" and back["POSTGRES_PORT"] == "5432"
    assert back["ITSTACK_OIDC_TOKEN_URL"].startswith("http://10.0.50.11:8080/realms/it-stack/")
    snipe = env(prod.container("itstack-prod-snipeit"))
    assert snipe["DB_HOST"] == "10.0.50.12" and snipe["APP_URL"] == "https://assets.it-stack.lab"
    _, services = traefik_services(prod)
    # Three web apps on one host: each published on its own host port, container port 80 inside.
    urls = {svc: services[svc]["loadBalancer"]["servers"][0]["url"] for svc in SERVICES}
    assert len(set(urls.values())) == 3 and all(u.startswith("http://10.0.50.18:") for u in urls.values())
    bound = [(p["ip"], int(p["external"]), p.get("protocol", "tcp")) for c in prod.containers() if "docker-lab-mgmt1" in c.provider
             for p in c.inputs.get("ports") or []]
    assert len(bound) == len(set(bound)), "no two containers bind the same host port"
    front = prod.container("itstack-prod-taiga-front")
    assert front.inputs["ports"][0]["internal"] == 80
    assert urls["taiga"] == f"http://10.0.50.18:{int(front.inputs['ports'][0]['external'])}"


def test_outputs_carry_urls_and_client_ids_but_no_secret(dev):
    for svc in SERVICES:
        out = dev.platform.outputs[svc]
        assert out["url"].startswith("https://")
        assert not any(isinstance(v, str) and v.startswith("pw-") for v in out.values())
    assert dev.platform.outputs["taiga"]["client_id"] == "taiga"
    assert dev.platform.outputs["glpi"]["client_id"] == "https://itsm.it-stack.lab/"


# --- the Taiga login plugin (our code, shipped into taiga-back) ------------------------------------

def _policy():
    spec = importlib.util.spec_from_file_location(
        "itstack_taiga_policy", FILES / "taiga" / "back" / "taiga_itstack_oidc" / "policy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_taiga_policy_maps_roles_and_refuses_outsiders():
    p = _policy()
    base = {"sub": "u-1", "preferred_username": "alice", "email": "alice@it-stack.lab", "name": "Alice A"}
    admin = p.identity({**base, "roles": ["taiga-admin"]}, user_role="taiga-user", admin_role="taiga-admin")
    assert admin.is_admin and admin.username == "alice" and admin.full_name == "Alice A"
    user = p.identity({**base, "roles": ["taiga-user", "other"]}, user_role="taiga-user", admin_role="taiga-admin")
    assert not user.is_admin
    with pytest.raises(p.Refused):
        p.identity({**base, "roles": ["nextcloud-admin"]}, user_role="taiga-user", admin_role="taiga-admin")
    with pytest.raises(p.Refused):
        p.identity({**base, "email": "", "roles": ["taiga-user"]}, user_role="taiga-user", admin_role="taiga-admin")
    named = p.identity({"sub": "u-2", "preferred_username": "bob", "email": "b@x", "given_name": "Bob",
                        "family_name": "B", "roles": "taiga-user"}, user_role="taiga-user", admin_role="taiga-admin")
    assert named.full_name == "Bob B"


def test_shipped_python_compiles(tmp_path):
    for path in (FILES / "taiga" / "back").rglob("*.py"):
        py_compile.compile(str(path), cfile=str(tmp_path / (path.name + "c")), doraise=True)


def test_glpi_samlsso_keeps_the_destination_check(dev):
    """validate_destination is samlSSO's relaxDestinationValidation (ConfigEntity): 1 turns the check off."""
    configure = uploads(dev.container("itstack-dev-glpi-configure"))["/opt/itstack/configure.sh"]
    fields = configure[configure.index('fields="'):]
    assert "validate_destination=0," in fields and "validate_destination=1" not in fields
    assert "strict=1" in fields and "validate_xml=1" in fields


def test_glpi_client_releases_the_claim_names_samlsso_reads(dev):
    """samlSSO reads e-mail and names only under claim-type URIs (src/LoginFlow/User.php SCHEMA_*)."""
    from components.itmgmt import glpi

    ns = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
    client = dev.named("keycloak:saml/client:Client", "saml-itsm")
    mappers = {r.inputs["userProperty"]: r for r in dev.of_type("keycloak:saml/userPropertyProtocolMapper:UserPropertyProtocolMapper")
               if r.name.startswith("saml-glpi-claim-")}
    assert {p: m.inputs["samlAttributeName"] for p, m in mappers.items()} == {
        "email": f"{ns}/emailaddress", "firstName": f"{ns}/givenname", "lastName": f"{ns}/surname"}
    assert glpi.CLAIMS == {p: m.inputs["samlAttributeName"] for p, m in mappers.items()}
    for m in mappers.values():
        assert m.inputs["samlAttributeNameFormat"] == "URI Reference"
        assert m.inputs["clientId"] == client.name + "-id"


def test_snipeit_trusts_traefik_and_reads_its_queue_setting(dev):
    e = env(dev.container("itstack-dev-snipeit"))
    proxies = e["APP_TRUSTED_PROXIES"].split(",")  # what config/trustedproxy.php does with it
    assert "*" not in proxies and all("/" in p for p in proxies)
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(proxies)
    assert e["QUEUE_CONNECTION"] == "sync" and "QUEUE_DRIVER" not in e
