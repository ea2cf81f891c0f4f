"""Keycloak 26: the SSO broker. Realm `it-stack`, users and groups federated read-only from FreeIPA.

Later services call `oidc_client(...)` or `saml_client(...)` and get back the issuer, client id
and (for OIDC) a secret client secret, with exact redirect URIs or entity ids, never wildcards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker
import pulumi_keycloak as keycloak
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials
from components.identity.freeipa import Directory
from components.identity.keycloak_lookup import KeycloakLookup

HTTP_PORT = 8080
MANAGEMENT_PORT = 9000
ADMIN_USER = "itstack-admin"
KEYCLOAK_VERSION = "26.4.7"

# The official image has no curl: ask /health/ready on the management port with bash alone.
# Ready means HTTP 200: while starting, the body already holds nested checks that say "UP",
# with a 503 status line.
_READY_PROBE = (
    "exec 3<>/dev/tcp/127.0.0.1/9000 && "
    "printf 'GET /health/ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && "
    "head -n 1 <&3 | grep -q ' 200 '"
)


@dataclass
class OidcClient:
    client_id: str
    client_secret: pulumi.Output[str]  # secret
    issuer: str
    discovery_url: str
    resource: keycloak.openid.Client


@dataclass
class SamlClient:
    entity_id: str  # equals the client id, as Keycloak requires
    idp_entity_id: str
    idp_sso_url: str
    idp_metadata_url: str
    resource: keycloak.saml.Client


class Keycloak(pulumi.ComponentResource):
    """Keycloak on its own PostgreSQL database, with a `pulumi_keycloak.Provider` built from it."""

    def __init__(
        self,
        ctx: ServiceContext,
        database: DatabaseCredentials,
        directory: Directory,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:identity:Keycloak", "keycloak", None, opts)
        self.ctx = ctx
        self.realm_name = ctx.settings.identity.realm
        self.public_url = ctx.url
        self.issuer = f"{self.public_url}/realms/{self.realm_name}"
        ro = pulumi.ResourceOptions(parent=self)
        # KC_BOOTSTRAP_ADMIN_* is read only on the first start against an empty database.
        self.admin_password = random.RandomPassword("keycloak-admin-password", length=32, special=False,
                                                    opts=pulumi.ResourceOptions(parent=self, **ctx.keep_data))
        self.endpoint = ctx.endpoint(HTTP_PORT, published=True)
        heap = max(512, ctx.settings.sizes["keycloak"].memory_mb * 3 // 4)
        self.container = self._container(ctx, database, directory, heap)
        host, port = self.endpoint.admin_address
        self.admin_url = f"http://{host}:{port}"
        self._groups: dict[str, keycloak.Group] = {}
        self._signing_certificate: pulumi.Output[str] | None = None
        self._configure_realm(directory)
        self.register_outputs({"issuer": self.issuer, "realm": self.realm_name, "url": self.public_url})

    def _configure_realm(self, directory: Directory) -> None:
        """The realm and its directory federation, through the keycloak provider plugin (the only
        part of this component that needs it)."""
        self.provider = keycloak.Provider(
            "keycloak-admin",
            # The URL comes from the container's output, so the provider is configured only
            # once Keycloak answers /health/ready (the container waits for that).
            url=self.container.name.apply(lambda _: self.admin_url),
            client_id="admin-cli",
            username=ADMIN_USER,
            password=self.admin_password.result,
            realm="master",
            # Don't log in while the server may not exist yet (first preview).
            initial_login=False,
            client_timeout=60,
            keycloak_version=KEYCLOAK_VERSION,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password"]),
        )
        kopts = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self._kopts = kopts
        self.realm = keycloak.Realm(
            "realm",
            realm=self.realm_name,
            display_name="IT-Stack",
            enabled=True,
            login_with_email_allowed=True,
            registration_allowed=False,
            reset_password_allowed=True,
            remember_me=True,
            ssl_required="external",
            default_signature_algorithm="RS256",
            access_token_lifespan="5m",
            sso_session_idle_timeout="8h",
            sso_session_max_lifespan="24h",
            password_policy="length(12) and upperCase(1) and lowerCase(1) and digits(1) and notUsername(undefined)",
            security_defenses=keycloak.RealmSecurityDefensesArgs(
                brute_force_detection=keycloak.RealmSecurityDefensesBruteForceDetectionArgs(
                    max_login_failures=5,
                    wait_increment_seconds=60,
                    max_failure_wait_seconds=900,
                    failure_reset_time_seconds=43200,
                    minimum_quick_login_wait_seconds=60,
                    quick_login_check_milli_seconds=1000,
                    permanent_lockout=False,
                )
            ),
            # The realm holds users' links, sessions and keys: kept with protectData.
            opts=pulumi.ResourceOptions.merge(kopts, pulumi.ResourceOptions(**self.ctx.keep_data)),
        )
        self.federation = keycloak.ldap.UserFederation(
            "freeipa-federation",
            name="freeipa",
            realm_id=self.realm.id,
            enabled=True,
            vendor="RHDS",
            connection_url=directory.ldap_url,
            bind_dn=directory.bind_dn,
            bind_credential=directory.bind_password,
            users_dn=directory.users_dn,
            username_ldap_attribute="uid",
            rdn_ldap_attribute="uid",
            uuid_ldap_attribute="ipaUniqueID",
            user_object_classes=["inetOrgPerson", "organizationalPerson"],
            search_scope="ONE_LEVEL",
            edit_mode="READ_ONLY",
            import_enabled=True,
            sync_registrations=False,
            trust_email=True,
            pagination=True,
            full_sync_period=3600,
            changed_sync_period=300,
            connection_timeout="10s",
            read_timeout="10s",
            opts=pulumi.ResourceOptions.merge(
                kopts, pulumi.ResourceOptions(additional_secret_outputs=["bindCredential"])
            ),
        )
        self.group_mapper = keycloak.ldap.GroupMapper(
            "freeipa-groups",
            name="freeipa-groups",
            realm_id=self.realm.id,
            ldap_user_federation_id=self.federation.id,
            ldap_groups_dn=directory.groups_dn,
            group_name_ldap_attribute="cn",
            group_object_classes=["groupOfNames"],
            membership_ldap_attribute="member",
            membership_attribute_type="DN",
            membership_user_ldap_attribute="uid",
            mode="READ_ONLY",
            user_roles_retrieve_strategy="LOAD_GROUPS_BY_MEMBER_ATTRIBUTE",
            preserve_group_inheritance=False,
            drop_non_existing_groups_during_sync=False,
            opts=kopts,
        )
        # FreeIPA's `admins` administer the realm: the group exists in Keycloak before the first
        # LDAP sync, which then fills it with the directory's members (matched by name).
        realm_admin = self._lookup("realm-admin-role", kind="client-role-id", client_id="realm-management",
                                   role="realm-admin")
        self.admins_role = keycloak.GroupRoles(
            "admins-realm-admin",
            realm_id=self.realm.id,
            group_id=self.group("admins").id,
            role_ids=[realm_admin.value],
            exhaustive=False,
            opts=kopts,
        )

    def _lookup(self, name: str, **what) -> KeycloakLookup:
        """A fact of the realm read once into the state (no invoke: see keycloak_lookup.py)."""
        return KeycloakLookup(
            name, admin_url=self.container.name.apply(lambda _: self.admin_url), admin_user=ADMIN_USER,
            admin_password=self.admin_password.result, realm=self.realm.realm, **what,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.realm]))

    @property
    def signing_certificate(self) -> pulumi.Output[str]:
        """The realm's active RS256 certificate (base64 DER), which SAML apps pin."""
        if self._signing_certificate is None:
            self._signing_certificate = self._lookup("realm-signing-certificate", kind="realm-certificate").value
        return self._signing_certificate

    def _container(self, ctx: ServiceContext, database: DatabaseCredentials, directory: Directory, heap: int):
        return ctx.container(
            self,
            command=["start"],
            envs=env_list(
                {
                    "KC_DB": "postgres",
                    "KC_DB_URL": f"jdbc:postgresql://{database.host}:{database.port}/{database.database}",
                    "KC_DB_USERNAME": database.user,
                    "KC_DB_PASSWORD": database.password,
                    "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
                    "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password.result,
                    # Public URL behind Traefik; back-channel calls (providers, apps) may use any name.
                    "KC_HOSTNAME": self.public_url,
                    "KC_HOSTNAME_BACKCHANNEL_DYNAMIC": "true",
                    "KC_HTTP_ENABLED": "true",
                    "KC_PROXY_HEADERS": "xforwarded",
                    "KC_HEALTH_ENABLED": "true",
                    "KC_METRICS_ENABLED": "true",
                    "KC_HTTP_MANAGEMENT_PORT": str(MANAGEMENT_PORT),
                    "KC_CACHE": "local",
                    "JAVA_OPTS_KC_HEAP": f"-Xms256m -Xmx{heap}m",
                }
            ),
            endpoints=[self.endpoint],
            networks=[database.network] + ([directory.network] if isinstance(directory.network, docker.Network) else []),
            network_names=[directory.network] if isinstance(directory.network, str) else [],
            # Exec form: the probe has quotes of its own, so it must not sit inside another shell's string.
            healthcheck=health(["CMD", "bash", "-c", _READY_PROBE], start_period="120s", interval="5s", retries=60),
            wait_timeout=600,
            depends_on=[database.ready] + ([directory.ready] if directory.ready else []),
        )

    def group(self, name: str) -> keycloak.Group:
        """A realm group, by the FreeIPA group name it mirrors (created once)."""
        if name not in self._groups:
            self._groups[name] = keycloak.Group(f"group-{name}", realm_id=self.realm.id, name=name, opts=self._kopts)
        return self._groups[name]

    def _role_groups(self, client_key: str, client_id: pulumi.Input[str], role_groups: Mapping[str, str]):
        """Client roles, each granted to the members of a directory group."""
        for role_name, group_name in role_groups.items():
            role = keycloak.Role(
                f"{client_key}-role-{role_name}", realm_id=self.realm.id, client_id=client_id, name=role_name,
                opts=self._kopts,
            )
            keycloak.GroupRoles(
                f"{client_key}-role-{role_name}-group",
                realm_id=self.realm.id,
                group_id=self.group(group_name).id,
                role_ids=[role.id],
                exhaustive=False,
                opts=self._kopts,
            )

    def oidc_client(
        self,
        client_id: str,
        *,
        redirect_uris: Sequence[str],
        web_origins: Sequence[str] = (),
        post_logout_redirect_uris: Sequence[str] = (),
        role_groups: Mapping[str, str] | None = None,
        direct_access_grants: bool = False,
        public: bool = False,
    ) -> OidcClient:
        """A confidential OIDC client with exact redirect URIs, a `groups` claim (group names) and,
        with `role_groups` {role: directory group}, client roles in a `roles` claim."""
        for uri in redirect_uris:
            if "*" in uri:
                raise ValueError(f"OIDC client {client_id}: redirect URI {uri!r} has a wildcard; give exact URIs")
        secret = random.RandomPassword(
            f"oidc-{client_id}-secret", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        client = keycloak.openid.Client(
            f"oidc-{client_id}",
            realm_id=self.realm.id,
            client_id=client_id,
            name=client_id,
            access_type="PUBLIC" if public else "CONFIDENTIAL",
            client_secret=None if public else secret.result,
            standard_flow_enabled=True,
            implicit_flow_enabled=False,
            direct_access_grants_enabled=direct_access_grants,
            service_accounts_enabled=False,
            valid_redirect_uris=list(redirect_uris),
            valid_post_logout_redirect_uris=list(post_logout_redirect_uris),
            web_origins=list(web_origins),
            pkce_code_challenge_method="S256" if public else None,
            opts=pulumi.ResourceOptions.merge(
                self._kopts, pulumi.ResourceOptions(additional_secret_outputs=["clientSecret"])
            ),
        )
        keycloak.openid.GroupMembershipProtocolMapper(
            f"oidc-{client_id}-groups",
            realm_id=self.realm.id,
            client_id=client.id,
            name="groups",
            claim_name="groups",
            full_path=False,
            opts=self._kopts,
        )
        if role_groups:
            self._role_groups(f"oidc-{client_id}", client.id, role_groups)
            keycloak.openid.UserClientRoleProtocolMapper(
                f"oidc-{client_id}-roles",
                realm_id=self.realm.id,
                client_id=client.id,
                name="roles",
                claim_name="roles",
                client_id_for_role_mappings=client_id,
                multivalued=True,
                opts=self._kopts,
            )
        return OidcClient(
            client_id=client_id,
            # From the client resource, not the random one: an app configured with this secret
            # then waits for its client to exist in a running Keycloak (seed: Keycloak first).
            client_secret=pulumi.Output.secret(
                pulumi.Output.all(client.id, secret.result).apply(lambda v: v[1])
            ),
            issuer=self.issuer,
            discovery_url=f"{self.issuer}/.well-known/openid-configuration",
            resource=client,
        )

    def saml_client(
        self,
        entity_id: str,
        *,
        acs_url: str,
        slo_url: str | None = None,
        role_groups: Mapping[str, str] | None = None,
        name_id_format: str = "username",
    ) -> SamlClient:
        """A SAML client whose client id IS the SP entity id the app sends (else logins fail).
        Assertions and documents are signed with RSA_SHA256; uid, mail, givenName, sn and a
        `groups` attribute are released; `role_groups` become client roles in a `Role` attribute."""
        if "*" in acs_url or "*" in entity_id:
            raise ValueError(f"SAML client {entity_id}: no wildcards in entity id or ACS URL")
        key = entity_id.split("//")[-1].split("/")[0].split(".")[0] or "saml"
        client = keycloak.saml.Client(
            f"saml-{key}",
            realm_id=self.realm.id,
            client_id=entity_id,
            name=key,
            sign_documents=True,
            sign_assertions=True,
            signature_algorithm="RSA_SHA256",
            client_signature_required=False,
            encrypt_assertions=False,
            force_post_binding=True,
            front_channel_logout=True,
            include_authn_statement=True,
            name_id_format=name_id_format,
            force_name_id_format=True,
            assertion_consumer_post_url=acs_url,
            logout_service_post_binding_url=slo_url,
            valid_redirect_uris=[acs_url],
            opts=self._kopts,
        )
        for attr, prop in (("uid", "username"), ("mail", "email"), ("givenName", "firstName"), ("sn", "lastName")):
            keycloak.saml.UserPropertyProtocolMapper(
                f"saml-{key}-{attr}",
                realm_id=self.realm.id,
                client_id=client.id,
                name=attr,
                user_property=prop,
                saml_attribute_name=attr,
                saml_attribute_name_format="Basic",
                opts=self._kopts,
            )
        keycloak.GenericProtocolMapper(
            f"saml-{key}-groups",
            realm_id=self.realm.id,
            client_id=client.id,
            name="groups",
            protocol="saml",
            protocol_mapper="saml-group-membership-mapper",
            config={"attribute.name": "groups", "attribute.nameformat": "Basic", "full.path": "false", "single": "false"},
            opts=self._kopts,
        )
        if role_groups:
            self._role_groups(f"saml-{key}", client.id, role_groups)
            keycloak.GenericProtocolMapper(
                f"saml-{key}-roles",
                realm_id=self.realm.id,
                client_id=client.id,
                name="roles",
                protocol="saml",
                protocol_mapper="saml-role-list-mapper",
                config={"attribute.name": "Role", "attribute.nameformat": "Basic", "single": "false"},
                opts=self._kopts,
            )
        saml_base = f"{self.issuer}/protocol/saml"
        return SamlClient(
            entity_id=entity_id,
            idp_entity_id=self.issuer,
            idp_sso_url=saml_base,
            idp_metadata_url=f"{saml_base}/descriptor",
            resource=client,
        )
