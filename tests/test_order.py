"""The deployment order, derived from the registered resource graph (inputs, depends_on,
providers), checked against the seed's phase table (it-stack-integration-map.md, "Phase 0..4c").

The program has no phase numbers: these orders must fall out of the data flowing between
components. Two seed rows are deliberately not reproduced, because no data flows there:
Redis before Keycloak (Keycloak 26 keeps sessions in its own cache; nothing configures it to use
Redis) and Traefik in phase 1c (Traefik's routes carry names, not outputs: it waits for nothing
and answers 502 for a service until that service is up)."""
import pytest

from harness import evaluate, stack_config

SSO_APPS = ["nextcloud", "mattermost", "jitsi", "zammad", "odoo", "taiga", "suitecrm", "glpi", "snipeit", "zabbix"]


@pytest.fixture(scope="module")
def dev():
    return evaluate("dev", stack_config("dev"))


def component(ev, service):
    matches = [r for r in ev.records if r.type.startswith("itstack:") and r.name == service]
    assert matches, f"no component {service}"
    return matches[0]


def containers(ev, service):
    return [c for c in ev.containers() if c.inputs["labels"][0]["value"] == service
            and not (c.inputs.get("attach") and c.inputs.get("mustRun") is False)]


def first_ready(ev, service):
    """The resources that make `service` ready: its serving containers."""
    cs = containers(ev, service)
    assert cs, f"{service} has no serving container"
    return cs


def all_before(ev, a, b) -> bool:
    """`b` cannot be complete before `a` is: some serving container of `b` is created only after
    every serving container of `a` (a front end without a database may start earlier)."""
    return any(all(ev.before(x.urn, y.urn) for x in first_ready(ev, a)) for y in first_ready(ev, b))


@pytest.mark.parametrize("first,then", [
    ("freeipa", "keycloak"),     # Phase 0/1b: directory before the SSO broker
    ("postgresql", "keycloak"),  # Phase 1a before 1b
    ("postgresql", "nextcloud"), ("redis", "nextcloud"),   # Phase 2a needs PG + Redis
    ("postgresql", "zammad"), ("elasticsearch", "zammad"), ("redis", "zammad"),  # Phase 2c
    ("mariadb", "suitecrm"), ("mariadb", "glpi"), ("mariadb", "snipeit"), ("mariadb", "freepbx"),
    ("postgresql", "odoo"), ("postgresql", "openkm"), ("postgresql", "taiga"),
])
def test_data_and_identity_come_first(dev, first, then):
    assert all_before(dev, first, then), f"{first} must be ready before {then}"
    assert not any(dev.before(y.urn, x.urn) for x in first_ready(dev, first) for y in first_ready(dev, then))


@pytest.mark.parametrize("app", SSO_APPS)
def test_keycloak_before_every_sso_app(dev, app):
    assert all_before(dev, "keycloak", app)


def test_everything_before_zabbix_monitors_it(dev):
    monitors = {r.name[len("zabbix-monitor-"):]: r for r in dev.records
                if r.name.startswith("zabbix-monitor-") and not r.name.startswith("zabbix-monitor-host-")}
    deployed = {c.inputs["labels"][0]["value"] for c in dev.containers()} - {"zabbix", "traefik"}
    assert deployed <= set(monitors), f"not monitored: {sorted(deployed - set(monitors))}"
    for service in deployed:
        for c in first_ready(dev, service):
            assert dev.before(c.urn, monitors[service].urn), f"{service} before its Zabbix monitoring"


def test_redis_is_not_ordered_before_keycloak(dev):
    """The seed puts Redis in phase 1a before Keycloak; no data flows from Redis to Keycloak."""
    assert not all_before(dev, "redis", "keycloak")
