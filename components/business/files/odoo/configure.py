# Run by `odoo shell` in the itstack init job (stdin), after the modules are installed.
# Idempotent: sets the admin password, system parameters and the Keycloak OAuth provider.
from odoo.tools import config

icp = env["ir.config_parameter"].sudo()
icp.set_param("web.base.url", config["itstack_public_url"])
icp.set_param("web.base.url.freeze", "True")
# Keycloak's userinfo endpoint takes the token in the Authorization header only.
icp.set_param("auth_oauth.authorization_header", "1")
# No public sign-up: accounts come from the directory (itstack_keycloak creates them).
icp.set_param("auth_signup.invitation_scope", "b2b")
env.ref("base.user_admin").sudo().write({"password": config["itstack_admin_password"]})

providers = env["auth.oauth.provider"].sudo().with_context(active_test=False)
client_id = config.get("itstack_oidc_client_id")
if client_id:
    values = {
        "name": "IT-Stack SSO (Keycloak)",
        "client_id": client_id,
        "enabled": True,
        "auth_endpoint": config["itstack_oidc_auth_endpoint"],
        "validation_endpoint": config["itstack_oidc_userinfo_endpoint"],
        "scope": "openid profile email",
        "body": "Sign in with IT-Stack SSO",
        "css_class": "fa fa-fw fa-sign-in text-primary",
    }
    provider = providers.search([("client_id", "=", client_id)], limit=1)
    if provider:
        provider.write(values)
    else:
        provider = providers.create(values)
    (providers.search([]) - provider).write({"enabled": False})
else:
    providers.search([]).write({"enabled": False})
env.cr.commit()
print("itstack: odoo configured")
