"""The identity settings the program declares, against a real Keycloak 26 on a real PostgreSQL,
federating a real FreeIPA-shaped 389-ds directory (all from scripts/images).

The keycloak and postgresql provider plugins cannot be built here (docs/toolchain.md), so this
test evaluates the program under mocks (identity.mode external), takes the resource inputs it
recorded (PostgreSQL role and database, Keycloak container env, realm, LDAP federation, group
mapper, the `admins` group, the Nextcloud OIDC client and its groups mapper) and applies exactly
those values with Keycloak's documented admin REST API and psql, as the providers would. Then it
proves what the e2e lane is for: a directory user and group appear in Keycloak after a sync, the
user signs in through the authorization-code flow of the program's client and gets a token with
the group claim, FreeIPA's `admins` hold realm-admin, a wrong password is refused, and each
database role reaches its own database and is refused on another's.

One deviation, stated: KC_HOSTNAME is the loopback URL, since the test has no DNS or TLS for
sso.<domain>."""
from __future__ import annotations

import pytest

from dockertools import docker
from oidc_flow import claims as _claims, code_flow_login, request as _request

# program, platform and configured (the real 389-ds, PostgreSQL and Keycloak set up from the
# program's recorded inputs) are in conftest.py, shared with test_browser_login.py.

def test_directory_user_and_group_appear_after_a_sync(configured):
    r, token = configured["r"], configured["token"]
    _, _, users = _request("GET", f"{r}/users?username=alice&exact=true", token=token)
    assert len(users) == 1 and users[0]["email"] == "alice@it-stack.test"
    assert users[0].get("federationLink"), "alice comes from the LDAP federation"
    _, _, groups = _request("GET", f"{r}/users/{users[0]['id']}/groups", token=token)
    assert {"admins", "developers"} <= {g["name"] for g in groups}


def _login(configured, username, password):
    """Authorization-code flow of the program's Nextcloud client, as a browser would do it."""
    client = configured["client"]
    return code_flow_login(configured["base"], configured["realm"], client["clientId"], client["clientSecret"],
                           client["validRedirectUris"][0], username, password)


def test_directory_user_signs_in_with_the_group_claim(configured):
    tokens, _ = _login(configured, "alice", "Alice-Secret-2026")
    assert tokens is not None, "alice could not sign in"
    claims = _claims(tokens["id_token"])
    assert claims["preferred_username"] == "alice"
    assert claims["aud"] == configured["client"]["clientId"]
    assert {"admins", "developers"} <= set(claims["groups"])


def test_wrong_password_is_refused(configured):
    tokens, page = _login(configured, "alice", "not-her-password")
    assert tokens is None and "Invalid username or password" in page


def test_directory_admins_administer_the_realm(configured):
    tokens, _ = _login(configured, "alice", "Alice-Secret-2026")
    access = _claims(tokens["access_token"])
    assert "realm-admin" in access["resource_access"]["realm-management"]["roles"]


def _psql_as(pg, user, password, database):
    return docker("exec", "-e", f"PGPASSWORD={password}", pg, "psql", "-h", "127.0.0.1", "-U", user, "-d", database,
                  "-tAc", "select current_user", check=False)


def test_each_database_role_reaches_its_own_database_only(program, platform):
    roles = {c: program.named("postgresql:index/role:Role", f"postgresql-{c}-role").inputs
             for c in ("keycloak", "nextcloud")}
    for mine, other in (("keycloak", "nextcloud"), ("nextcloud", "keycloak")):
        role = roles[mine]
        ok = _psql_as(platform["pg"], role["name"], role["password"], mine)
        assert ok.returncode == 0 and ok.stdout.strip() == role["name"], ok.stderr
        for elsewhere in (other, "postgres", "template1"):
            refused = _psql_as(platform["pg"], role["name"], role["password"], elsewhere)
            assert refused.returncode != 0 and "permission denied" in refused.stderr, (elsewhere, refused.stderr)
    wrong = _psql_as(platform["pg"], roles["nextcloud"]["name"], "wrong-password", "nextcloud")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_lookups_read_the_realm_admin_role_and_signing_certificate(configured, platform):
    """What components/identity/keycloak_lookup.py reads into the state, against the real Keycloak."""
    from components.identity.keycloak_lookup import KeycloakLookupError, lookup

    props = {"admin_url": platform["base"], "admin_user": platform["admin_user"],
             "admin_password": platform["admin_password"], "realm": configured["realm"]}
    r, token = configured["r"], configured["token"]
    _, _, mgmt = _request("GET", f"{r}/clients?clientId=realm-management", token=token)
    _, _, role = _request("GET", f"{r}/clients/{mgmt[0]['id']}/roles/realm-admin", token=token)
    assert lookup({**props, "kind": "client-role-id", "client_id": "realm-management", "role": "realm-admin"}) == role["id"]
    _, _, keys = _request("GET", f"{r}/keys", token=token)
    active = {k["certificate"] for k in keys["keys"] if k["algorithm"] == "RS256" and k.get("certificate")}
    assert lookup({**props, "kind": "realm-certificate"}) in active
    with pytest.raises(KeycloakLookupError, match="answered 40[01]") as refused:
        lookup({**props, "admin_password": "wrong", "kind": "realm-certificate"})
    assert "wrong" not in str(refused.value)
