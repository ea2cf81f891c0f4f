"""IT-Stack's OpenID Connect login for Taiga 6 (an auth plugin, written for this stack).

taiga-front's `itstack-oidc` plugin sends the browser to Keycloak (authorization code flow with a
`state` check); Keycloak returns to https://<taiga>/login with a code; the front posts it to
/api/v1/auth {type: "itstack-oidc", code}; this app exchanges the code at Keycloak's token endpoint
(back channel, confidential client), reads the userinfo, admits only users holding the client role
for Taiga users or admins, creates or updates the Taiga user and maps the admin role to
is_superuser/is_staff on every login.
"""
