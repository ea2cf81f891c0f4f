"""Login links for the itstack Keycloak provider use the authorization-code flow.

Odoo's auth_oauth builds implicit-flow links (response_type=token, the access token in the URL
fragment). Keycloak's client for Odoo is a confidential client with only the standard
(authorization-code) flow enabled, so the link asks for a code instead, with the exact redirect
URI registered in Keycloak; res_users.auth_oauth exchanges the code with the client secret.
"""
from urllib.parse import parse_qsl, urlencode

from odoo.addons.auth_oauth.controllers.main import OAuthLogin
from odoo.tools import config


class ItstackOAuthLogin(OAuthLogin):
    def list_providers(self):
        providers = super().list_providers()
        client_id = config.get("itstack_oidc_client_id")
        redirect_uri = config.get("itstack_oidc_redirect_uri")
        for provider in providers:
            if not client_id or provider.get("client_id") != client_id or not provider.get("auth_link"):
                continue
            base, _, query = provider["auth_link"].partition("?")
            params = dict(parse_qsl(query))
            params.update(response_type="code", redirect_uri=redirect_uri)
            provider["auth_link"] = f"{base}?{urlencode(params)}"
        return providers
