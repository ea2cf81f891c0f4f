"""The identity and data tiers of itstack, built by the program's own composition root and
components (stack.build), so every container, volume, network, health check, limit and upload is
exactly what the program declares.

With `itstack-lane:adminPlugins` false (the containers engine lane, where the keycloak and
postgresql plugins cannot be built), the two admin-API parts that need those plugins are replaced:
PostgreSQL's roles, databases and REVOKEs by pg_standin (same statements over the wire protocol);
Keycloak's realm configuration is left out. With it true (the e2e lane), nothing is replaced and
one OIDC client is created through the component's own factory, for a real sign-in.
"""
import pulumi

from components.data.postgresql import PostgreSQL
from components.identity.keycloak import Keycloak
from settings import ConfigError, read_pulumi_config
from stack import build, export_contract

lane = pulumi.Config("itstack-lane")
admin_plugins = lane.require_bool("adminPlugins")


class PostgreSQLWithoutPlugin(PostgreSQL):
    def _admin_provider(self):
        return None

    def _standin(self, name, database, role, password):
        from pg_standin import PgDatabase

        host, port = self.endpoint.admin_address
        return PgDatabase(name, database=database, role=role, password=password,
                          admin_host=self.container.name.apply(lambda _: host), admin_port=port,
                          admin_password=self.admin_password.result,
                          opts=pulumi.ResourceOptions(parent=self))

    def _revoke_public(self, database, name=None):
        return self._standin(f"postgresql-{name or database}-revoke-public", database, None, None)

    def _consumer_database(self, name, password):
        return self._standin(f"postgresql-{name}-db", name, f"{name}_user", password)


class KeycloakWithoutPlugin(Keycloak):
    def _configure_realm(self, directory):
        self.provider = None


try:
    settings = read_pulumi_config()
except ConfigError as err:
    pulumi.log.error(str(err))
    raise SystemExit(1) from None

overrides = {} if admin_plugins else {"postgresql": PostgreSQLWithoutPlugin, "keycloak": KeycloakWithoutPlugin}
platform = build(settings, overrides=overrides)
export_contract(platform)
if admin_plugins and platform.keycloak is not None:
    # What a consumer asks of the platform, through the components' own factories: an OIDC
    # client (a real sign-in goes through it) and its own database on each engine.
    client = platform.keycloak.oidc_client(
        "e2e-probe", redirect_uris=[lane.require("redirectUri")], direct_access_grants=False)
    pulumi.export("e2e_client", {"client_id": client.client_id, "issuer": client.issuer})
    pulumi.export("e2e_client_secret", client.client_secret)
    host = platform.hosts[settings.placement["postgresql"]]
    dbs = {"postgresql": platform.postgres.database("e2e_probe", host),
           "mariadb": platform.mariadb.database("e2e_probe", host)}
    pulumi.export("e2e_databases", pulumi.Output.secret(
        {engine: {"user": d.user, "database": d.database, "password": d.password} for engine, d in dbs.items()}))
