"""Keycloak sign-in for Odoo users: code exchange, account creation and role mapping.

The Keycloak client `odoo` releases the user's client roles in the `roles` claim of the userinfo
response (Odoo's validation endpoint):
  odoo-admin  -> internal user + Administration / Settings (base.group_system)
  odoo-user   -> internal user (base.group_user)
  odoo-portal -> portal user (base.group_portal)
A user with none of these roles is refused. Accounts are created here, on first login, instead
of through auth_signup, so public sign-up stays closed (auth_signup.invitation_scope = b2b).
"""
import logging

import requests

from odoo import api, models
from odoo.exceptions import AccessDenied
from odoo.tools import config

_logger = logging.getLogger(__name__)

ADMIN, USER, PORTAL = "odoo-admin", "odoo-user", "odoo-portal"


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _itstack_is_keycloak(self, provider):
        client_id = config.get("itstack_oidc_client_id")
        return bool(client_id) and self.env["auth.oauth.provider"].sudo().browse(provider).client_id == client_id

    @api.model
    def _itstack_exchange_code(self, code):
        """Authorization code -> access token, at Keycloak's token endpoint (back channel)."""
        response = requests.post(
            config.get("itstack_oidc_token_endpoint"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": config.get("itstack_oidc_redirect_uri"),
                "client_id": config.get("itstack_oidc_client_id"),
                "client_secret": config.get("itstack_oidc_client_secret"),
            },
            timeout=10,
        )
        token = response.json().get("access_token") if response.ok else None
        if not token:
            _logger.warning("Keycloak code exchange failed: HTTP %s", response.status_code)
            raise AccessDenied()
        return token

    @api.model
    def auth_oauth(self, provider, params):
        if params.get("code") and not params.get("access_token") and self._itstack_is_keycloak(provider):
            params = dict(params, access_token=self._itstack_exchange_code(params["code"]))
        return super().auth_oauth(provider, params)

    @api.model
    def _itstack_groups(self, roles):
        if ADMIN in roles:
            return self.env.ref("base.group_user") | self.env.ref("base.group_system")
        if USER in roles:
            return self.env.ref("base.group_user")
        return self.env.ref("base.group_portal")

    def _itstack_apply_roles(self, roles):
        """Keep the user type and the Settings right in line with the directory's roles."""
        internal, system, portal = (self.env.ref(x) for x in ("base.group_user", "base.group_system", "base.group_portal"))
        commands = []
        if roles & {ADMIN, USER}:
            if portal in self.groups_id:
                commands.append((3, portal.id))
            commands.append((4, internal.id))
            commands.append((4, system.id) if ADMIN in roles else (3, system.id))
        elif internal in self.groups_id:
            # An internal user who only kept the portal role: changing the user type would drop
            # their other rights; leave it to an administrator, but take Settings away.
            commands.append((3, system.id))
            _logger.warning("User %s has only the %s role but is an internal user", self.login, PORTAL)
        if commands:
            self.sudo().write({"groups_id": commands})

    @api.model
    def _auth_oauth_signin(self, provider, validation, params):
        if not self._itstack_is_keycloak(provider):
            return super()._auth_oauth_signin(provider, validation, params)
        roles = set(validation.get("roles") or [])
        if not roles & {ADMIN, USER, PORTAL}:
            _logger.info("Keycloak user %s has no Odoo role; login refused", validation.get("preferred_username"))
            raise AccessDenied()
        oauth_uid = validation["user_id"]
        users = self.sudo().with_context(active_test=False)
        user = users.search([("oauth_uid", "=", oauth_uid), ("oauth_provider_id", "=", provider)], limit=1)
        if not user:
            values = self._generate_signup_values(provider, validation, params)
            # An account an administrator created beforehand with the same e-mail login: link it.
            user = users.search([("login", "=", values["login"]), ("oauth_uid", "=", False)], limit=1)
            if user:
                user.write({"oauth_provider_id": provider, "oauth_uid": oauth_uid})
            else:
                values["groups_id"] = [(6, 0, self._itstack_groups(roles).ids)]
                user = users.with_context(no_reset_password=True).create(values)
        if not user.active:
            raise AccessDenied()
        user._itstack_apply_roles(roles)
        user.write({"oauth_access_token": params["access_token"]})
        return user.login
