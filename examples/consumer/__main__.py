"""A team's own program on top of itstack: everything it knows about the platform comes from the
itstack stack's outputs (docs/outputs.md), read by StackReference.

It reads the public facts (contract_version, domain, identity, database_endpoints) and makes its
own OIDC client and its own database with credentials issued to this team. It reads none of
itstack's admin passwords: those are the platform team's break-glass access, not an API.
"""
import pulumi
import pulumi_keycloak as keycloak
import pulumi_postgresql as postgresql
import pulumi_random as random

# The contract major version this program was written against (docs/outputs.md).
CONTRACT_MAJOR = 2

config = pulumi.Config()
app = config.get("app") or "wiki"
itstack = pulumi.StackReference(config.require("itstackStack"))


def _check_contract(version: str) -> str:
    # A major bump means an output we read may be gone or retyped: stop before using any.
    if version is None or int(str(version).split(".")[0]) != CONTRACT_MAJOR:
        raise ValueError(f"itstack's output contract is {version}; this program reads major {CONTRACT_MAJOR} "
                         "(docs/outputs.md says what changed)")
    return version


contract_version = itstack.require_output("contract_version").apply(_check_contract)
domain = itstack.require_output("domain")
identity = itstack.require_output("identity")
postgres = itstack.require_output("database_endpoints").apply(lambda d: d["postgresql"])
# Each read waits for the version check, so nothing is built against a contract we do not know.
realm = pulumi.Output.all(contract_version, identity).apply(lambda a: a[1]["realm"])
app_url = pulumi.Output.all(contract_version, domain).apply(lambda a: f"https://{app}.{a[1]}")

# --- our own OIDC client in itstack's realm ------------------------------------------------
kc = keycloak.Provider(
    "itstack-keycloak",
    url=identity.apply(lambda i: i["admin_url"]),
    realm=realm,
    client_id=config.require("keycloakClientId"),
    client_secret=config.require_secret("keycloakClientSecret"),
    initial_login=False,
)
client = keycloak.openid.Client(
    f"{app}-oidc",
    realm_id=realm,
    client_id=app,
    name=app,
    access_type="CONFIDENTIAL",
    standard_flow_enabled=True,
    # Exact URIs only: a wildcard would let any path on the host receive our codes.
    valid_redirect_uris=[app_url.apply(lambda u: f"{u}/oauth2/callback")],
    valid_post_logout_redirect_uris=[app_url.apply(lambda u: f"{u}/")],
    web_origins=[app_url],
    root_url=app_url,
    opts=pulumi.ResourceOptions(provider=kc),
)

# --- our own database on itstack's PostgreSQL ----------------------------------------------
pg = postgresql.Provider(
    "itstack-postgresql",
    host=pulumi.Output.all(contract_version, postgres).apply(lambda a: a[1]["host"]),
    port=postgres.apply(lambda p: int(p["port"])),
    username=config.require("databaseAdminUser"),
    password=config.require_secret("databaseAdminPassword"),
    database="postgres",
    sslmode="disable",
    superuser=False,
)
db_password = random.RandomPassword(f"{app}-db-password", length=32, special=False)
role = postgresql.Role(
    f"{app}-role",
    name=f"{app}_user",
    login=True,
    password=db_password.result,
    opts=pulumi.ResourceOptions(provider=pg),
)
database = postgresql.Database(
    f"{app}-db",
    name=app,
    owner=role.name,
    opts=pulumi.ResourceOptions(provider=pg),
)

pulumi.export("itstack_contract_version", contract_version)
pulumi.export("url", app_url)
pulumi.export("oidc", {
    "issuer": identity.apply(lambda i: i["issuer"]),
    "client_id": client.client_id,
    "redirect_uri": app_url.apply(lambda u: f"{u}/oauth2/callback"),
})
pulumi.export("oidc_client_secret", pulumi.Output.secret(client.client_secret))
pulumi.export("database", {"host": postgres.apply(lambda p: p["host"]), "port": postgres.apply(lambda p: int(p["port"])),
                           "name": database.name, "user": role.name})
pulumi.export("database_password", pulumi.Output.secret(db_password.result))
