"""Shared by the identity contract (test_identity_contract.py) and the browser sign-in
(test_browser_login.py): the program evaluated under mocks (identity.mode external) and a real
389-ds, PostgreSQL and Keycloak configured from its recorded inputs. Session-scoped: one Keycloak
serves both modules (its start is most of the lane's time on 2 cores)."""
from __future__ import annotations

import socket
import time

import pytest

from dockertools import docker, local_image, run_healthcheck, unique
from harness import evaluate, stack_config
from oidc_flow import request as _request

SUFFIX = "dc=it-stack,dc=test"
BIND_DN = f"uid=keycloak-svc,cn=sysaccounts,cn=etc,{SUFFIX}"
DIRECTORY_NETWORK = "itstack-contract-directory"


@pytest.fixture(scope="session")
def program():
    """The dev stack with an external, FreeIPA-shaped directory, evaluated under mocks."""
    raw = {**stack_config("dev"), "services": ["freeipa", "keycloak", "postgresql", "redis", "nextcloud"],
           "identity": {"mode": "external", "url": "ldap://itstack-contract-389ds:3389", "baseDn": SUFFIX,
                        "bindDn": BIND_DN, "network": DIRECTORY_NETWORK}}
    return evaluate("dev", raw, {"directoryBindPassword": "contract-bind-pw"})


@pytest.fixture(scope="session")
def platform(program):
    """389-ds, PostgreSQL and Keycloak containers, configured from the program's recorded inputs."""
    net = unique("itstack-contract")
    names = []
    docker("network", "create", net)
    docker("network", "create", DIRECTORY_NETWORK, check=False)
    try:
        # The site's directory, on the network the program tells Keycloak to join.
        names.append("itstack-contract-389ds")
        docker("rm", "-f", "-v", "itstack-contract-389ds", check=False)
        docker("run", "-d", "--name", "itstack-contract-389ds", "--network", DIRECTORY_NETWORK,
               "-e", "DS_DM_PASSWORD=contract-dm-pw", "-e", f"DS_SUFFIX={SUFFIX}",
               "-e", f"DS_BIND_DN={BIND_DN}", "-e", "DS_BIND_PASSWORD=contract-bind-pw", local_image("389ds"))

        pg_env = program.container("itstack-dev-postgresql").inputs["envs"]
        pg = unique("itstack-contract-pg")
        names.append(pg)
        docker("run", "-d", "--name", pg, "--network", net, "--network-alias", "itstack-dev-postgresql",
               *sum((["-e", e] for e in pg_env), []), local_image("postgres"))
        _wait(lambda: docker("exec", pg, "pg_isready", "-h", "127.0.0.1", check=False).returncode == 0, 120, "postgres")
        # What pulumi_postgresql would do with the recorded Role, Database and Grant inputs.
        for consumer in ("keycloak", "nextcloud"):
            _apply_database(program, pg, consumer)
        for maintenance in ("postgres", "template1"):
            grant = program.named("postgresql:index/grant:Grant", f"postgresql-{maintenance}-revoke-public").inputs
            assert grant["role"] == "public" and grant["privileges"] == [] and grant["database"] == maintenance
            docker("exec", pg, "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-c",
                   f"REVOKE ALL ON DATABASE {maintenance} FROM PUBLIC")

        kc_env = [e for e in program.container("itstack-dev-keycloak").inputs["envs"] if not e.startswith("KC_HOSTNAME=")]
        kc = unique("itstack-contract-kc")
        names.append(kc)
        with socket.socket() as sock:  # a free loopback port for the admin API
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        docker("create", "--name", kc, "--network", net, "-p", f"127.0.0.1:{port}:8080",
               "-e", f"KC_HOSTNAME={base}", *sum((["-e", e] for e in kc_env), []), local_image("keycloak"), "start")
        docker("network", "connect", DIRECTORY_NETWORK, kc)  # as the program's identity.network asks
        docker("start", kc)
        _wait(lambda: _health(program, kc), 300, "keycloak /health/ready")
        _wait(lambda: docker("exec", "itstack-contract-389ds", "/usr/local/bin/ds-healthcheck", check=False).returncode == 0,
              180, "389ds")
        admin_pw = next(e.split("=", 1)[1] for e in kc_env if e.startswith("KC_BOOTSTRAP_ADMIN_PASSWORD="))
        admin_user = next(e.split("=", 1)[1] for e in kc_env if e.startswith("KC_BOOTSTRAP_ADMIN_USERNAME="))
        yield {"base": base, "admin_user": admin_user, "admin_password": admin_pw, "kc": kc, "pg": pg}
    finally:
        for n in names:
            docker("rm", "-f", "-v", n, check=False)
        docker("network", "rm", net, check=False)
        docker("network", "rm", DIRECTORY_NETWORK, check=False)


def _apply_database(program, pg, consumer):
    role = program.named("postgresql:index/role:Role", f"postgresql-{consumer}-role").inputs
    db = program.named("postgresql:index/database:Database", f"postgresql-{consumer}-db").inputs
    grant = program.named("postgresql:index/grant:Grant", f"postgresql-{consumer}-revoke-public").inputs
    assert grant["role"] == "public" and grant["privileges"] == [] and grant["objectType"] == "database"
    for stmt in (f"CREATE ROLE {role['name']} LOGIN PASSWORD '{role['password']}' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                 f"CREATE DATABASE {db['name']} OWNER {db['owner']} ENCODING 'UTF8' TEMPLATE template0",
                 f"REVOKE ALL ON DATABASE {grant['database']} FROM PUBLIC"):
        docker("exec", pg, "psql", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-c", stmt)


def _wait(ok, seconds, what):
    deadline = time.time() + seconds
    while not ok():
        assert time.time() < deadline, f"{what} not ready after {seconds}s"
        time.sleep(2)


def _health(program, kc) -> bool:
    """The program's own Keycloak health check, run in the container the way Docker runs it."""
    return run_healthcheck(kc, program.container("itstack-dev-keycloak").inputs["healthcheck"]["tests"])


@pytest.fixture(scope="session")
def configured(program, platform):
    """Apply the recorded Keycloak resources through the admin REST API."""
    base = platform["base"]
    _, _, tok = _request("POST", f"{base}/realms/master/protocol/openid-connect/token",
                         {"grant_type": "password", "client_id": "admin-cli", "username": platform["admin_user"],
                          "password": platform["admin_password"]}, form=True)
    token = tok["access_token"]
    admin = f"{base}/admin/realms"

    realm = program.named("keycloak:index/realm:Realm", "realm").inputs
    bf = realm["securityDefenses"]["bruteForceDetection"]
    _request("POST", admin, {"realm": realm["realm"], "enabled": True, "displayName": realm["displayName"],
                             "passwordPolicy": realm["passwordPolicy"], "sslRequired": realm["sslRequired"],
                             "bruteForceProtected": True, "failureFactor": bf["maxLoginFailures"],
                             "waitIncrementSeconds": bf["waitIncrementSeconds"]}, token)
    r = f"{admin}/{realm['realm']}"
    _, _, realm_rep = _request("GET", r, token=token)

    fed = program.named("keycloak:ldap/userFederation:UserFederation", "freeipa-federation").inputs
    _, headers, _ = _request("POST", f"{r}/components", {
        "name": fed["name"], "providerId": "ldap", "providerType": "org.keycloak.storage.UserStorageProvider",
        "parentId": realm_rep["id"],
        "config": {"vendor": [fed["vendor"].lower()], "connectionUrl": [fed["connectionUrl"]],
                   "bindDn": [fed["bindDn"]], "bindCredential": [fed["bindCredential"]], "authType": ["simple"],
                   "usersDn": [fed["usersDn"]], "usernameLDAPAttribute": [fed["usernameLdapAttribute"]],
                   "rdnLDAPAttribute": [fed["rdnLdapAttribute"]], "uuidLDAPAttribute": [fed["uuidLdapAttribute"]],
                   "userObjectClasses": [", ".join(fed["userObjectClasses"])], "editMode": [fed["editMode"]],
                   "importEnabled": [str(fed["importEnabled"]).lower()],
                   "syncRegistrations": [str(fed["syncRegistrations"]).lower()],
                   "searchScope": ["1" if fed["searchScope"] == "ONE_LEVEL" else "2"],
                   "trustEmail": [str(fed["trustEmail"]).lower()], "pagination": ["true"], "enabled": ["true"]}},
        token)
    fed_id = headers["Location"].rsplit("/", 1)[1]

    gm = program.named("keycloak:ldap/groupMapper:GroupMapper", "freeipa-groups").inputs
    _, headers, _ = _request("POST", f"{r}/components", {
        "name": gm["name"], "providerId": "group-ldap-mapper",
        "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper", "parentId": fed_id,
        "config": {"groups.dn": [gm["ldapGroupsDn"]], "group.name.ldap.attribute": [gm["groupNameLdapAttribute"]],
                   "group.object.classes": [", ".join(gm["groupObjectClasses"])],
                   "membership.ldap.attribute": [gm["membershipLdapAttribute"]],
                   "membership.attribute.type": [gm["membershipAttributeType"]],
                   "membership.user.ldap.attribute": [gm["membershipUserLdapAttribute"]],
                   "mode": [gm["mode"]], "user.roles.retrieve.strategy": [gm["userRolesRetrieveStrategy"]],
                   "preserve.group.inheritance": ["false"], "drop.non.existing.groups.during.sync": ["false"],
                   "groups.path": ["/"], "ignore.missing.groups": ["false"]}}, token)
    mapper_id = headers["Location"].rsplit("/", 1)[1]

    # The realm's `admins` group exists before the first sync (the program pre-creates it).
    admins = program.named("keycloak:index/group:Group", "group-admins").inputs
    _, headers, _ = _request("POST", f"{r}/groups", {"name": admins["name"]}, token)
    admins_id = headers["Location"].rsplit("/", 1)[1]
    # GroupRoles: the realm-management client's realm-admin role for that group.
    grant = program.named("keycloak:index/groupRoles:GroupRoles", "admins-realm-admin").inputs
    assert grant["roleIds"] == ["role-realm-admin-uuid"]  # the mocked lookup of realm-admin
    _, _, mgmt = _request("GET", f"{r}/clients?clientId=realm-management", token=token)
    _, _, role = _request("GET", f"{r}/clients/{mgmt[0]['id']}/roles/realm-admin", token=token)
    _request("POST", f"{r}/groups/{admins_id}/role-mappings/clients/{mgmt[0]['id']}", [role], token)

    client = program.named("keycloak:openid/client:Client", "oidc-nextcloud").inputs
    _request("POST", f"{r}/clients", {
        "clientId": client["clientId"], "protocol": "openid-connect", "publicClient": False,
        "secret": client["clientSecret"], "standardFlowEnabled": client["standardFlowEnabled"],
        "implicitFlowEnabled": False, "directAccessGrantsEnabled": client["directAccessGrantsEnabled"],
        "redirectUris": client["validRedirectUris"], "webOrigins": client.get("webOrigins", [])}, token)
    _, _, found = _request("GET", f"{r}/clients?clientId={client['clientId']}", token=token)
    groups_mapper = program.named("keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper",
                                  "oidc-nextcloud-groups").inputs
    _request("POST", f"{r}/clients/{found[0]['id']}/protocol-mappers/models", {
        "name": groups_mapper["name"], "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
        "config": {"claim.name": groups_mapper["claimName"], "full.path": str(groups_mapper["fullPath"]).lower(),
                   "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}}, token)

    # A user and a group seeded in the directory, FreeIPA-shaped.
    docker("exec", "itstack-contract-389ds", "ds-add-user", "alice", "Alice-Secret-2026", "Alice", "Liddell",
           "alice@it-stack.test", "admins", "developers")
    _request("POST", f"{r}/user-storage/{fed_id}/sync?action=triggerFullSync", {}, token)
    _request("POST", f"{r}/user-storage/{fed_id}/mappers/{mapper_id}/sync?direction=fedToKeycloak", {}, token)
    return {"base": base, "realm": realm["realm"], "client": client, "token": token, "r": r,
            "federation_id": fed_id, "group_mapper_id": mapper_id}
