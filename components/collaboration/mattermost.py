"""Mattermost Team Edition: team chat on PostgreSQL, single sign-on through Keycloak acting as a
GitLab-compatible OAuth 2.0 provider.

Team Edition has no OpenID Connect (an Enterprise feature) but does have GitLab SSO, configured
with MM_GITLABSETTINGS_* (config GitLabSettings: Enable, Id, Secret, Scope, AuthEndpoint,
TokenEndpoint, UserAPIEndpoint). What Mattermost does with them (mattermost/mattermost,
server/channels/app/oauth.go and app/oauthproviders/gitlab/gitlab.go):
1. sends the browser to AuthEndpoint with response_type=code, client_id, scope and
   redirect_uri = <SiteURL>/signup/gitlab/complete (for sign-up and log-in alike);
2. POSTs client_id, client_secret, code, grant_type=authorization_code to TokenEndpoint and
   expects token_type "bearer" (any case) and an access_token;
3. GETs UserAPIEndpoint with "Authorization: Bearer <token>" and reads a GitLab user:
   `id` (a non-zero integer, the account's stable key), `username`, `email` (required), `name`.
Keycloak answers 1 and 2 as any OIDC provider does; for 3 its userinfo endpoint gets two
claims added on this client: `id` = the user's FreeIPA uidNumber (imported by an LDAP attribute
mapper, sent as a JSON number) and `username` = the Keycloak user name (the FreeIPA uid).
`openid` is in the scope because Keycloak's userinfo endpoint refuses tokens without it.
"""
from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pulumi_keycloak as keycloak
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.collaboration.common import KeycloakView
from components.collaboration.mattermost_admin import MattermostAdmin, MattermostWebhook
from components.data.credentials import DatabaseCredentials, SmtpCredentials

HTTP_PORT = 8065
ADMIN_USER = "itstack-admin"
UID_NUMBER_ATTRIBUTE = "uidNumber"


def datasource(db: DatabaseCredentials) -> pulumi.Output[str]:
    """MM_SQLSETTINGS_DATASOURCE: a lib/pq URL (the password is alphanumeric, no escaping)."""
    return pulumi.Output.secret(db.password).apply(
        lambda pw: f"postgres://{db.user}:{pw}@{db.host}:{db.port}/{db.database}?sslmode=disable&connect_timeout=10"
    )


class Mattermost(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        database: DatabaseCredentials,
        keycloak_view: KeycloakView,
        client_id: str,
        client_secret: pulumi.Input[str] | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:collaboration:Mattermost", "mattermost", None, opts)
        if database.engine != "postgresql":
            raise ValueError("Mattermost runs on PostgreSQL here (itstack-spec §4.8)")
        self.ctx = ctx
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("mattermost-admin-password", length=32, special=False, opts=ro)
        env: dict[str, pulumi.Input[str]] = {
            "MM_SQLSETTINGS_DRIVERNAME": "postgres",
            "MM_SQLSETTINGS_DATASOURCE": datasource(database),
            "MM_SERVICESETTINGS_SITEURL": ctx.url,
            "MM_SERVICESETTINGS_LISTENADDRESS": f":{HTTP_PORT}",
            "MM_SERVICESETTINGS_ENABLELOCALMODE": "true",  # `mmctl --local` inside the container
            # New accounts come through SSO; e-mail sign-up stays on only so the stack can create
            # the first (admin) account; without an invitation nobody else can use it.
            "MM_TEAMSETTINGS_ENABLEOPENSERVER": "false",
            "MM_TEAMSETTINGS_ENABLEUSERCREATION": "true",
            "MM_LOGSETTINGS_CONSOLEJSON": "true",
            "MM_LOGSETTINGS_ENABLEFILE": "false",
        }
        self.sso = client_secret is not None
        if client_secret is not None:
            env.update(
                {
                    "MM_GITLABSETTINGS_ENABLE": "true",
                    "MM_GITLABSETTINGS_ID": client_id,
                    "MM_GITLABSETTINGS_SECRET": client_secret,
                    "MM_GITLABSETTINGS_SCOPE": "openid profile email",
                    "MM_GITLABSETTINGS_AUTHENDPOINT": keycloak_view.auth_endpoint,
                    "MM_GITLABSETTINGS_TOKENENDPOINT": keycloak_view.token_endpoint,
                    "MM_GITLABSETTINGS_USERAPIENDPOINT": keycloak_view.userinfo_endpoint,
                }
            )
        if smtp is not None:
            env.update(
                {
                    "MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS": "true",
                    "MM_EMAILSETTINGS_ENABLESMTPAUTH": "true",
                    "MM_EMAILSETTINGS_SMTPSERVER": smtp.host,
                    "MM_EMAILSETTINGS_SMTPPORT": str(smtp.port),
                    "MM_EMAILSETTINGS_CONNECTIONSECURITY": "STARTTLS",
                    "MM_EMAILSETTINGS_SMTPUSERNAME": smtp.user,
                    "MM_EMAILSETTINGS_SMTPPASSWORD": smtp.password,
                    "MM_EMAILSETTINGS_FEEDBACKEMAIL": smtp.from_address,
                    "MM_EMAILSETTINGS_REPLYTOADDRESS": smtp.from_address,
                    "MM_EMAILSETTINGS_FEEDBACKNAME": "IT-Stack Chat",
                    # iRedMail presents a self-signed certificate for a name that is not the
                    # container name we connect to: STARTTLS encrypts, but cannot be verified.
                    "MM_EMAILSETTINGS_SKIPSERVERCERTIFICATEVERIFICATION": "true",
                }
            )
        else:
            env["MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS"] = "false"
        # Published on the host address: the engine creates the first account through the API.
        self.endpoint = ctx.endpoint(HTTP_PORT, published=True)
        volumes = []
        for purpose, path in (("data", "/mattermost/data"), ("config", "/mattermost/config"),
                              ("plugins", "/mattermost/plugins"), ("client-plugins", "/mattermost/client/plugins")):
            vol = ctx.volume(self, purpose)
            volumes.append(docker.ContainerVolumeArgs(volume_name=vol.name, container_path=path))
        networks = [database.network, keycloak_view.network] + ([smtp.network] if smtp else [])
        self.container = ctx.container(
            self,
            envs=env_list(env),
            endpoints=[self.endpoint],
            volumes=volumes,
            networks=networks,
            healthcheck=health(
                [f"curl -fsS --max-time 4 http://127.0.0.1:{HTTP_PORT}/api/v4/system/ping | grep -q '\"status\":\"OK\"'"],
                start_period="120s",
            ),
            wait_timeout=600,
            depends_on=[database.ready] + ([smtp.ready] if smtp else []),
        )
        host, port = self.endpoint.admin_address
        # From the container's output: API calls start only once Mattermost answers its ping.
        self.api_url = self.container.name.apply(lambda _: f"http://{host}:{port}")
        self.admin = MattermostAdmin(
            "mattermost-first-admin",
            url=self.api_url,
            username=ADMIN_USER,
            email=f"{ADMIN_USER}@{ctx.domain}",
            password=self.admin_password.result,
            opts=ro,
        )
        self.webhooks: dict[tuple[str, str], MattermostWebhook] = {}
        self.register_outputs({"url": ctx.url, "admin_user": ADMIN_USER, "admin_password": self.admin_password.result})

    def incoming_webhook(self, name: str, channel: str) -> pulumi.Output[str]:
        """An incoming webhook `name` posting to public channel `channel` of team `itstack`
        (created if absent). Returns its URL, a secret: whoever holds it can post."""
        key = (name, channel)
        if key not in self.webhooks:
            self.webhooks[key] = MattermostWebhook(
                f"mattermost-hook-{name}-{channel}",
                url=self.api_url,
                public_url=self.ctx.url,
                hook_name=name,
                channel=channel,
                admin_user=ADMIN_USER,
                admin_password=self.admin_password.result,
                # Signs in as the first admin, which must exist first (no data flows from it).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.admin]),
            )
        return pulumi.Output.secret(self.webhooks[key].hook_url)


def gitlab_claims(kc, client, opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """The Keycloak side of the GitLab emulation: uidNumber from FreeIPA into a user attribute,
    then `id` (number) and `username` claims in this client's userinfo response."""
    uid_number = keycloak.ldap.UserAttributeMapper(
        "freeipa-uidnumber",
        realm_id=kc.realm.id,
        ldap_user_federation_id=kc.federation.id,
        name=UID_NUMBER_ATTRIBUTE,
        user_model_attribute=UID_NUMBER_ATTRIBUTE,
        ldap_attribute=UID_NUMBER_ATTRIBUTE,
        read_only=True,
        always_read_value_from_ldap=True,
        is_mandatory_in_ldap=False,
        opts=opts,
    )
    gid = keycloak.openid.UserAttributeProtocolMapper(
        "oidc-mattermost-gitlab-id",
        realm_id=kc.realm.id,
        client_id=client.id,
        name="gitlab-id",
        user_attribute=UID_NUMBER_ATTRIBUTE,
        claim_name="id",
        claim_value_type="long",
        add_to_userinfo=True,
        add_to_id_token=False,
        add_to_access_token=False,
        opts=opts,
    )
    uname = keycloak.openid.UserPropertyProtocolMapper(
        "oidc-mattermost-gitlab-username",
        realm_id=kc.realm.id,
        client_id=client.id,
        name="gitlab-username",
        user_property="username",
        claim_name="username",
        add_to_userinfo=True,
        add_to_id_token=False,
        add_to_access_token=False,
        opts=opts,
    )
    return [uid_number, gid, uname]
