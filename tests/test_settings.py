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


# --- issue 12, item 4: every kind of bad setting, in our own words, all at once -------------------
import re  # noqa: E402

from components.catalog import PUBLISHED_PORTS  # noqa: E402
from settings import MAX_CPUS, MAX_MEMORY_MB, MAX_PORT_OFFSET  # noqa: E402

LINE = re.compile(r"^config key 'itstack:[^']+': got .+; allowed: .+$")
IDENTITY_CORE = ["postgresql", "freeipa", "keycloak"]


def host(name, address="10.0.0.1", docker=None, **extra):
    return {"name": name, "dockerHost": docker or f"ssh://deploy@{name}.it-stack.lab", "address": address, **extra}


def problems(stack="dev", secrets=None, **raw) -> ConfigError:
    """The error of a bad config, after checking every line reads as our own message."""
    e = err(stack, secrets, **raw)
    lines = str(e).splitlines()
    assert len(lines) == len(e.problems)
    for line in lines:
        assert LINE.match(line), line
        assert "Input should" not in line and "pydantic" not in line.lower(), line
    return e


def problem(e: ConfigError, key: str):
    found = [p for p in e.problems if p.key == key]
    assert found, f"no problem for {key}; have {e.keys}"
    return found[0]


@pytest.mark.parametrize("url", ["ssh://", "ssh://deploy@", "ssh://deploy@lab db1", "ssh://deploy@lab-db1 ",
                                 "tcp://10.0.0.1", "tcp://10.0.0.1:99999", "unix://var/run/docker.sock",
                                 "ssh://deploy@lab-db1/path", "ssh://deploy@-bad-.lab", "docker.sock", 5])
def test_malformed_docker_host(url):
    e = problems(hosts=[host("a", docker=url)])
    p = problem(e, "hosts[0].dockerHost")
    assert p.value == url and "ssh://" in p.allowed


def test_docker_host_with_a_password_is_refused_without_showing_it():
    e = problems(hosts=[host("a", docker="ssh://deploy:hunter2@lab-db1")])
    assert "hunter2" not in str(e) and "<secret, not shown>" in str(e)


@pytest.mark.parametrize("address", ["10.0.0.300", "lab db1", "lab-db1.it-stack.lab", "0.0.0.0", "::1", "", None, 10])
def test_host_address_that_is_not_a_bindable_ipv4_address(address):
    p = problem(problems(hosts=[host("a", address=address)]), "hosts[0].address")
    assert p.value == address and "IPv4" in p.allowed


def test_loopback_address_beside_real_ones_is_unreachable_from_other_hosts():
    hosts = [host("a", "127.0.0.1"), host("b", "10.0.0.2")]
    e = problems(hosts=hosts, services=IDENTITY_CORE, placement={"postgresql": "a", "freeipa": "b", "keycloak": "b"})
    assert problem(e, "hosts[0].address").value == "127.0.0.1"


def test_two_hosts_on_one_engine_collide():
    e = problems(hosts=[host("a", docker="ssh://deploy@lab-db1"), host("b", "10.0.0.2", docker="ssh://lab-db1")],
                 services=IDENTITY_CORE, placement={"postgresql": "a", "freeipa": "b", "keycloak": "b"})
    assert "hosts[0]" in problem(e, "hosts[1].dockerHost").allowed


def test_two_hosts_with_one_address_publishing_one_port():
    # Traefik and Nextcloud both publish 80 once there are several hosts; one address: a clash.
    svcs = IDENTITY_CORE + ["redis", "nextcloud", "traefik"]
    place = {"postgresql": "a", "freeipa": "a", "keycloak": "a", "redis": "a", "nextcloud": "a", "traefik": "b"}
    e = problems(hosts=[host("a", "10.0.0.5"), host("b", "10.0.0.5")], services=svcs, placement=place)
    p = problem(e, "hosts[1].address")
    assert p.value == "10.0.0.5" and "nextcloud on a and traefik on b both publish tcp 80" in p.allowed
    # Their own addresses, or one address with an offset that separates them: fine.
    load_settings("dev", {**BASE, "hosts": [host("a", "10.0.0.5"), host("b", "10.0.0.6")], "services": svcs,
                          "placement": place})
    load_settings("dev", {**BASE, "hosts": [host("a", "10.0.0.5"), host("b", "10.0.0.5", portOffset=20000)],
                          "services": svcs, "placement": place})


def test_placement_that_makes_two_services_claim_one_port_fails_in_settings():
    # Keycloak and SuiteCRM both listen on 8080; on one host of a multi-host stack both publish it.
    raw = {**BASE, "tls": {"mode": "acme", "acmeEmail": "ops@it-stack.lab"}, "placement": {"suitecrm": "lab-id1"}}
    with pytest.raises(ConfigError) as e:
        load_settings("prod", raw)
    p = problem(e.value, "placement.suitecrm")
    assert p.value == "lab-id1" and "keycloak already publishes tcp 8080 on lab-id1" in p.allowed


def _largest_always_port():
    return max(((hp, svc) for svc, ports in PUBLISHED_PORTS.items() for hp in ports if hp.always),
               key=lambda pair: pair[0].port)


def test_published_port_beyond_65535_after_the_offset():
    hp, svc = _largest_always_port()
    limit = 65535 - hp.port
    assert limit < MAX_PORT_OFFSET  # otherwise portOffset's own range would catch it first
    p = problem(problems(hosts=[host("a", portOffset=limit + 1)]), "hosts[0].portOffset")
    assert p.value == limit + 1 and f"at most {limit}" in p.allowed and svc in p.allowed
    load_settings("dev", {**BASE, "hosts": [host("a", portOffset=limit)]})


@pytest.mark.parametrize("raw", [
    {"hosts": [host("a", portOffset=True)]},
    {"sizes": {"redis": {"memoryMb": True}}},
    {"sizes": {"redis": {"cpus": True}}},
    {"sizes": {"redis": {"cpus": "2"}}},
    {"hosts": [host("a", portOffset="100")]},
    {"protectData": 1},
    {"requireImageDigests": "false"},
    {"hosts": [host("a", privilegedContainers="yes")]},
])
def test_a_boolean_is_not_a_number_nor_a_number_a_boolean(raw):
    e = problems(**raw)
    (key, value), = [(k, v) for k, v in _leaves(raw)]
    assert problem(e, key).value == value


def _leaves(raw, prefix=""):
    """(key, value) of the one bad leaf each parametrized case above sets."""
    for k, v in raw.items():
        key = f"{prefix}{k}"
        if k == "hosts":
            bad = {f: x for f, x in v[0].items() if f not in ("name", "dockerHost", "address")}
            yield from ((f"hosts[0].{f}", x) for f, x in bad.items())
        elif isinstance(v, dict):
            yield from _leaves(v, key + ".")
        else:
            yield key, v


@pytest.mark.parametrize("services", [["postgresql", {"name": "redis"}], ["postgresql", None], "redis", [], {"a": 1}])
def test_wrongly_typed_services_entry_is_a_config_error_not_a_traceback(services):
    e = problems(services=services)
    assert e.key == "services"


@pytest.mark.parametrize("field,value", [("memoryMb", MAX_MEMORY_MB + 1), ("memoryMb", 10**9),
                                         ("cpus", MAX_CPUS + 0.5), ("cpus", float("inf")), ("cpus", float("nan"))])
def test_sizes_are_bounded(field, value):
    p = problem(problems(sizes={"redis": {field: value}}), f"sizes.redis.{field}")
    assert str(MAX_MEMORY_MB if field == "memoryMb" else MAX_CPUS) in p.allowed
    ok = {"memoryMb": MAX_MEMORY_MB, "cpus": MAX_CPUS}
    assert load_settings("dev", {**BASE, "sizes": {"redis": ok}}).sizes["redis"].memory_mb == MAX_MEMORY_MB


def test_unknown_size_field():
    assert problems(sizes={"redis": {"memory": 512}}).key == "sizes.redis.memory"


@pytest.mark.parametrize("field,value", [("url", "ldap://ipa.example.test"), ("baseDn", "dc=example,dc=test"),
                                         ("bindDn", "uid=kc,dc=example,dc=test"), ("network", "ipa-net")])
def test_external_identity_fields_when_mode_is_container_are_an_error(field, value):
    for ident in ({field: value}, {"mode": "container", field: value}):
        p = problem(problems(identity=ident), f"identity.{field}")
        assert p.value == value and "'external'" in p.allowed


def test_bind_password_when_mode_is_container_is_an_error_that_hides_it():
    e = problems(secrets={"directoryBindPassword": "s3cret-bind"})
    assert e.key == "directoryBindPassword" and "s3cret-bind" not in str(e) and "<secret, not shown>" in str(e)


@pytest.mark.parametrize("key", ["placement", "images", "sizes"])
def test_settings_for_a_disabled_service_are_an_error(key):
    value = {"placement": "local", "images": "redis:7.4.1", "sizes": {"memoryMb": 512}}[key]
    e = problems(services=["postgresql"], **{key: {"redis": value}})
    p = problem(e, f"{key}.redis")
    assert p.value == value and "not in itstack:services" in p.allowed


@pytest.mark.parametrize("key,value", [("placement", "local"), ("images", "freeipa/freeipa-server:fedora-41"),
                                       ("sizes", {"memoryMb": 4096})])
def test_freeipa_settings_with_an_external_directory_are_an_error(key, value):
    ident = {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,cn=sysaccounts,cn=etc,dc=example,dc=test"}
    e = problems(identity=ident, secrets={"directoryBindPassword": "x"}, **{key: {"freeipa": value}})
    assert "'external'" in problem(e, f"{key}.freeipa").allowed


@pytest.mark.parametrize("realm", ["It-Stack", "it stack", "-it", "master", "", 42, "a" * 37, "it_stack"])
def test_realm_names_are_checked(realm):
    assert problem(problems(identity={"realm": realm}), "identity.realm").value == realm


@pytest.mark.parametrize("network", ["bad network", "-net", "net/1", 7])
def test_external_directory_network_names_are_checked(network):
    ident = {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,dc=example,dc=test", "network": network}
    e = problems(identity=ident, secrets={"directoryBindPassword": "x"})
    assert problem(e, "identity.network").value == network


@pytest.mark.parametrize("field,value", [("url", "ldap://ipa.example.test:99999"), ("url", "ldap://ipa example"),
                                         ("url", "ldap:///"), ("baseDn", "example.test"), ("bindDn", "kc")])
def test_external_directory_url_and_dns_are_checked(field, value):
    ident = {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,dc=example,dc=test", field: value}
    assert problem(problems(identity=ident, secrets={"directoryBindPassword": "x"}), f"identity.{field}").value == value


@pytest.mark.parametrize("server", ["http://acme.example/directory", "not a url", "ftp://acme.example/", "https://",
                                    "https:// acme.example/", 443])
def test_acme_server_must_be_an_https_url(server):
    e = problems(tls={"mode": "acme", "acmeEmail": "ops@it-stack.lab", "acmeCaServer": server})
    assert problem(e, "tls.acmeCaServer").value == server


def test_acme_settings_with_self_signed_tls_are_an_error():
    e = problems(tls={"mode": "self-signed", "acmeEmail": "ops@it-stack.lab"})
    assert e.key == "tls.acmeEmail" and "'acme'" in e.allowed


@pytest.mark.parametrize("email", ["ops", "ops@", "ops@lab", "o ps@it-stack.lab", 5])
def test_acme_email_must_be_an_address(email):
    assert problems(tls={"mode": "acme", "acmeEmail": email}).key == "tls.acmeEmail"


@pytest.mark.parametrize("key,value", [("tls", "acme"), ("identity", "external"), ("hosts", {"name": "a"}),
                                       ("hosts", ["local"]), ("placement", ["keycloak"]), ("images", "postgres:16"),
                                       ("sizes", 512), ("integrations", ["x"]), ("sizes", {"redis": 512})])
def test_wrong_shapes_are_described_in_our_words(key, value):
    e = problems(**{key: value})
    assert e.key.startswith(key)


@pytest.mark.parametrize("version", ["1.40", "2.0", "1.4", "latest", 1.44, 1.5, None])
def test_docker_api_version(version):
    p = problem(problems(hosts=[host("a", dockerApiVersion=version)]), "hosts[0].dockerApiVersion")
    assert p.value == version
    if isinstance(version, float):
        assert "quoted" in p.allowed


def test_docker_api_version_default_and_given():
    assert load_settings("dev", BASE).hosts[0].api_version == (1, 41)
    s = load_settings("dev", {**BASE, "hosts": [host("a", dockerApiVersion="1.47")]})
    assert s.hosts[0].api_version == (1, 47)


def test_freeipa_container_needs_a_host_that_allows_privileged_containers():
    e = problems(hosts=[host("a", privilegedContainers=False)])
    assert e.key == "hosts[0].privilegedContainers" and "'external'" in e.allowed
    # Another host may refuse them; an external directory needs none.
    hosts = [host("a", "10.0.0.1"), host("b", "10.0.0.2", privilegedContainers=False)]
    s = load_settings("dev", {**BASE, "hosts": hosts, "services": IDENTITY_CORE,
                              "placement": {"postgresql": "b", "freeipa": "a", "keycloak": "a"}})
    assert s.hosts[1].privileged_containers is False
    ident = {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,dc=example,dc=test"}
    load_settings("dev", {**BASE, "hosts": [host("a", privilegedContainers=False)], "identity": ident},
                  {"directoryBindPassword": "x"})


@pytest.mark.parametrize("ident", ["sso:keycloak->sharepoint", "sso:sharepoint->nextcloud", "magic:keycloak->nextcloud"])
def test_integration_ids_name_known_kinds_and_services(ident):
    assert problems(integrations={"disabled": [ident]}).value == ident


def test_every_problem_of_one_run_is_reported_together():
    raw = {
        "domain": "Not A Domain",
        "hosts": [host("a", docker="ssh://", address="10.0.0.300", portOffset=True)],
        "services": ["postgresql", {"name": "redis"}],
        "sizes": {"postgresql": {"memoryMb": 10**7}},
        "tls": {"mode": "letsencrypt"},
        "identity": {"realm": "Master", "url": "ldap://x"},
        "protectData": "yes",
        "domian": "typo",
    }
    with pytest.raises(ConfigError) as info:
        load_settings("dev", raw)
    e = info.value
    expected = {"domain", "hosts[0].dockerHost", "hosts[0].address", "hosts[0].portOffset", "services",
                "tls.mode", "identity.realm", "identity.url", "protectData", "domian"}
    assert expected <= set(e.keys), set(e.keys) ^ expected
    lines = str(e).splitlines()
    assert len(lines) == len(e.problems) >= len(expected)
    assert all(LINE.match(line) for line in lines)
    # The first line keeps the one-problem format that the engine lane greps for.
    assert lines[0] == str(e.problems[0]) and str(e).startswith("config key 'itstack:")


def test_one_problem_message_is_unchanged():
    e = err(domain="not a domain")
    assert str(e) == ("config key 'itstack:domain': got 'not a domain'; allowed: a lower-case DNS domain such as "
                      "'it-stack.lab' (letters, digits, hyphens, dots)")


# --- the published-port table settings checks against, held to what the components publish -------
PORT_STACKS = {
    "dev": ("dev", None),
    "prod": ("prod", None),
    # Three hosts, one with an offset, a placement of our own; FreeIPA external (so it claims nothing).
    "multi-external": ("dev", {
        **BASE,
        "hosts": [host("lab-db1", "10.1.0.1"), host("lab-app1", "10.1.0.2", portOffset=1000),
                  host("lab-mgmt1", "10.1.0.3")],
        "services": ["postgresql", "mariadb", "redis", "freeipa", "keycloak", "nextcloud", "mattermost", "jitsi",
                     "snipeit", "glpi", "taiga", "zabbix"],
        "placement": {"keycloak": "lab-db1", "zabbix": "lab-app1"},
        "identity": {"mode": "external", "url": "ldap://ipa.example.test", "baseDn": "dc=example,dc=test",
                     "bindDn": "uid=kc,dc=example,dc=test"},
    }),
}


@pytest.mark.parametrize("name", PORT_STACKS)
def test_published_port_table_matches_what_the_components_publish(name, monkeypatch):
    from components.base import HostRuntime
    from harness import evaluate, stack_config

    stack, raw = PORT_STACKS[name]
    claimed = []
    real_claim = HostRuntime.claim_port

    def spy(self, port, protocol, owner):
        claimed.append((self.name, port, protocol, owner))
        return real_claim(self, port, protocol, owner)

    monkeypatch.setattr(HostRuntime, "claim_port", spy)
    secrets = {"directoryBindPassword": "x"} if raw and "identity" in raw else None
    ev = evaluate(stack, raw or stack_config(stack), secrets)
    planned = ev.settings.published_ports()
    # Every claim the components make, and nothing else, is in the table settings checks.
    assert sorted((pp.host, pp.port, pp.protocol, pp.owner) for pp in planned) == sorted(claimed)
    # And what containers bind is the table without its claim-only rows.
    bound = []
    for c in ev.containers():
        labels = {lab["label"]: lab["value"] for lab in c.inputs["labels"]}
        host_name = c.provider.split("::")[-2].removeprefix("docker-")
        for port in c.inputs.get("ports") or []:
            bound.append((host_name, int(port["external"]), port.get("protocol", "tcp"),
                          labels["org.itstack.service"]))
    expected = [(pp.host, pp.port, pp.protocol, pp.service) for pp in planned if not pp.claim_only]
    assert sorted(bound) == sorted(expected)


def test_ldap_url_with_a_password_is_refused_without_showing_it():
    ident = {"mode": "external", "url": "ldap://kc:bind-s3cret@ipa.example.test", "baseDn": "dc=example,dc=test",
             "bindDn": "uid=kc,dc=example,dc=test"}
    e = problems(identity=ident, secrets={"directoryBindPassword": "x"})
    assert problem(e, "identity.url").value is not None and "bind-s3cret" not in str(e)


def test_stack_config_read_through_pulumi_hides_secrets_in_every_message():
    """read_pulumi_config: a plain-text bind password and a mistyped secret key are reported
    together with the other problems, and neither value is printed."""
    import pulumi
    from pulumi.runtime import config as pconfig

    from harness import Mocks
    from settings import read_pulumi_config

    pulumi.runtime.set_mocks(Mocks(), project="itstack", stack="dev", preview=True)
    saved = dict(pconfig.CONFIG.get())
    try:
        pconfig.set_all_config({
            "itstack:domain": "it-stack.lab",
            "itstack:requireImageDigests": "false",
            "itstack:directoryBindPassword": "plain-bind-pw",
            "itstack:directoryBindPasword": "typo-secret-pw",
            "itstack:sizes": '{"redis": {"memoryMb": true}}',
        }, secret_keys=["itstack:directoryBindPasword"])
        with pytest.raises(ConfigError) as info:
            read_pulumi_config()
    finally:
        pconfig.set_all_config(saved, [])
    e = info.value
    assert {"directoryBindPassword", "directoryBindPasword", "sizes.redis.memoryMb"} <= set(e.keys)
    assert "plain-bind-pw" not in str(e) and "typo-secret-pw" not in str(e)
