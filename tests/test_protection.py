"""Nothing is lost (issue 12): in a stack with protectData (prod), what holds data or is read only
at first initialisation is protected and, if it ever leaves the program, retained, not dropped."""
from __future__ import annotations

import pytest

from harness import evaluate, stack_config

FIRST_INIT_PASSWORDS = {"postgresql-superuser-password", "mariadb-root-password", "keycloak-admin-password",
                        "freeipa-admin-password", "freeipa-dm-password"}


def holds_data(r) -> bool:
    return (r.type in ("docker:index/volume:Volume", "postgresql:index/role:Role",
                       "postgresql:index/database:Database", "keycloak:index/realm:Realm")
            or (r.type == "pulumi-python:dynamic:Resource" and r.name.startswith("mariadb-"))
            or r.name in FIRST_INIT_PASSWORDS)


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def test_prod_protects_and_retains_every_database_role_realm_volume_and_first_init_password(prod):
    kept = [r for r in prod.records if holds_data(r)]
    kinds = {r.type for r in kept}
    assert {"docker:index/volume:Volume", "postgresql:index/role:Role", "postgresql:index/database:Database",
            "keycloak:index/realm:Realm", "pulumi-python:dynamic:Resource"} <= kinds
    assert {r.name for r in kept} >= FIRST_INIT_PASSWORDS
    loose = [f"{r.type} {r.name}" for r in kept if not (r.protect and r.retain_on_delete)]
    assert loose == []


def test_dev_keeps_nothing_back():
    dev = evaluate("dev", stack_config("dev"))
    assert not [r.name for r in dev.records if r.protect or r.retain_on_delete]


@pytest.mark.parametrize("service", ["nextcloud", "suitecrm", "zabbix", "glpi"])
def test_removing_a_service_from_prod_deletes_no_data(prod, service):
    raw = stack_config("prod")
    services = [s for s in prod.settings.services if s != service]
    smaller = evaluate("prod", {**raw, "services": services})
    remaining = {(r.type, r.name) for r in smaller.records}
    gone = [r for r in prod.records if (r.type, r.name) not in remaining]
    data = [r for r in gone if holds_data(r)]
    assert data, f"removing {service} removes none of its data resources?"
    # The engine refuses to delete a protected resource, and a retained one is only forgotten.
    assert all(r.protect and r.retain_on_delete for r in data), [r.name for r in data if not r.protect]
