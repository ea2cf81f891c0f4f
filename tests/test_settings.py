"""Bad input fails before any resource, naming the key, the value and what is allowed."""
import pytest

from settings import ConfigError, load_settings

BASE = {"domain": "it-stack.lab", "requireImageDigests": False}


def err(stack="dev", secrets=None, **raw) -> ConfigError:
    with pytest.raises(ConfigError) as e:
        load_settings(stack, {**BASE, **raw}, secrets)
    return e.value


def test_defaults_are_valid_for_dev_and_prod():
    dev = load_settings("dev", BASE)
    assert [h.name for h in dev.hosts] == ["local"]
    prod = load_settings("prod", {**BASE, "tls": {"mode": "acme", "acmeEmail": "ops@it-stack.lab"}})
    assert len(prod.hosts) == 8 and prod.protect_data


@pytest.mark.parametrize("domain", ["not a domain", "UPPER.lab", "nodots", "-bad.lab", "a..lab", 42])
def test_domain_that_is_not_a_domain(domain):
    e = err(domain=domain)
    assert e.key == "domain" and e.value == domain and "DNS domain" in e.allowed
    assert "itstack:domain" in str(e)


def test_unknown_service_names_the_service_and_lists_the_allowed():
    e = err(services=["postgresql", "sharepoint"])
    assert e.key == "services" and e.value == "sharepoint" and "nextcloud" in e.allowed


def test_disabled_dependency_names_both_services():
    e = err(services=["zammad", "postgresql", "redis", "keycloak", "freeipa"])
    assert "'zammad' requires 'elasticsearch'" in e.allowed


def test_placement_on_a_host_the_hosts_list_lacks():
    e = err(placement={"keycloak": "lab-id9"})
    assert e.key == "placement.keycloak" and e.value == "lab-id9" and "local" in e.allowed


def test_prod_layout_host_missing_from_hosts_is_named():
    hosts = [{"name": "lab-id1", "dockerHost": "ssh://a@b", "address": "10.0.0.1"},
             {"name": "lab-db1", "dockerHost": "ssh://a@c", "address": "10.0.0.2"}]
    e = err("prod", hosts=hosts, services=["postgresql", "redis", "nextcloud", "keycloak", "freeipa"],
            tls={"mode": "acme", "acmeEmail": "a@b.c"}, requireImageDigests=False)
    assert e.key == "placement.nextcloud" and "lab-app1" in e.allowed


@pytest.mark.parametrize("image", ["postgres", "postgres:latest", "Postgres:16", "postgres:16@sha256:abc"])
def test_image_without_a_pinned_tag(image):
    e = err(images={"postgresql": image})
    assert e.key == "images.postgresql" and e.value == image


def test_image_without_digest_when_digests_are_required():
    e = err(services=["postgresql"], images={"postgresql": "postgres:16.15"}, requireImageDigests=True)
    assert e.key == "images.postgresql" and "digest" in e.allowed


def test_image_override_for_a_role_of_a_multi_container_service():
    s = load_settings("dev", {**BASE, "images": {"jitsi": {"jvb": "jitsi/jvb:stable-1"}}})
    assert s.image("jitsi", "jvb").ref == "jitsi/jvb:stable-1"
    e = err(images={"jitsi": {"nope": "jitsi/jvb:stable-1"}})
    assert e.key == "images.jitsi.nope" and "jvb" in e.allowed


@pytest.mark.parametrize("field,value", [("memoryMb", -512), ("memoryMb", 0), ("cpus", -1), ("cpus", 0)])
def test_negative_or_zero_size(field, value):
    e = err(sizes={"redis": {field: value}})
    assert e.key == f"sizes.redis.{field}" and e.value == value


def test_size_of_wrong_type_names_the_key():
    e = err(sizes={"redis": {"memoryMb": "lots"}})
    assert e.key == "sizes.redis.memoryMb" and e.value == "lots"


def test_unknown_top_level_key_is_a_typo():
    e = err(domian="it-stack.lab")
    assert e.key == "domian" and "domain" in e.allowed


def test_unknown_host_field():
    e = err(hosts=[{"name": "a", "dockerHost": "unix:///x", "address": "127.0.0.1", "adress": "x"}])
    assert e.key == "hosts[0].adress"


def test_bad_docker_endpoint_and_duplicate_host():
    e = err(hosts=[{"name": "a", "dockerHost": "http://x", "address": "127.0.0.1"}])
    assert e.key == "hosts[0].dockerHost"
    h = {"name": "a", "dockerHost": "unix:///x", "address": "127.0.0.1"}
    assert err(hosts=[h, h]).key == "hosts[1].name"


def test_tls_mode_and_acme_email():
    assert err(tls={"mode": "letsencrypt"}).key == "tls.mode"
    assert err(tls={"mode": "acme"}).key == "tls.acmeEmail"


def test_external_identity_needs_url_dn_and_secret_password():
    ident = {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,cn=sysaccounts,cn=etc,dc=example,dc=test"}
    assert err(identity=ident).key == "directoryBindPassword"
    assert err(identity={**ident, "url": "http://x"}, secrets={"directoryBindPassword": "x"}).key == "identity.url"
    assert err(identity={**ident, "bindDn": None}, secrets={"directoryBindPassword": "x"}).key == "identity.bindDn"
    s = load_settings("dev", {**BASE, "identity": ident}, {"directoryBindPassword": "x"})
    assert s.base_dn == "dc=example,dc=test"


def test_integration_ids_are_checked():
    assert err(integrations={"disabled": ["nextcloud"]}).key == "integrations.disabled"
    assert err(integrations={"off": []}).key == "integrations.off"


def test_base_dn_derives_from_the_one_domain():
    assert load_settings("dev", BASE).base_dn == "dc=it-stack,dc=lab"


def test_digests_and_data_protection_are_on_unless_a_stack_turns_them_off():
    e = err(requireImageDigests=True, services=["postgresql", "elasticsearch"])
    assert e.key == "images.elasticsearch" and "digest" in e.allowed
    s = load_settings("dev", {"domain": "it-stack.lab", "requireImageDigests": False})
    assert s.protect_data is True
