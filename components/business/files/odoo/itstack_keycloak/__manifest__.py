# An Odoo addon of the itstack Pulumi program, uploaded into the Odoo container at deploy time.
{
    "name": "IT-Stack Keycloak login",
    "summary": "Sign in through Keycloak with the authorization-code flow; directory roles set the user type",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tools",
    "license": "LGPL-3",
    "depends": ["auth_oauth"],
    "data": [],
    "installable": True,
    "auto_install": False,
}
