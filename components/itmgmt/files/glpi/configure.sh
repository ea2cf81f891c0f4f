#!/bin/bash
# IT-Stack configuration of GLPI 11 (written for this stack), run once per change in a job
# container from the GLPI image, after the app is installed and healthy. Values come from the
# environment; the GLPI console encrypts secured settings (smtp_passwd) with the instance key.
set -euo pipefail
cd /var/www/glpi
console() { php bin/console --no-interaction "$@"; }

console config:set url_base "$ITSTACK_URL"

# The installer creates glpi/glpi, tech/tech, normal/normal and post-only/postonly: the local
# admin gets a random password, the other three are disabled.
console user:reset_password glpi --password="$ITSTACK_ADMIN_PASSWORD"
for user in tech normal post-only; do
    console user:disable "$user" || true
done

if [ "${ITSTACK_SMTP_ENABLED:-0}" = 1 ]; then
    console config:set smtp_mode 3            # MAIL_SMTPTLS: SMTP with STARTTLS
    console config:set smtp_host "$ITSTACK_SMTP_HOST"
    console config:set smtp_port "$ITSTACK_SMTP_PORT"
    console config:set smtp_username "$ITSTACK_SMTP_USER"
    console config:set smtp_passwd "$ITSTACK_SMTP_PASSWORD"
    console config:set admin_email "$ITSTACK_SMTP_FROM"
    console config:set from_email "$ITSTACK_SMTP_FROM"
    console config:set use_notifications 1
    console config:set notifications_mailing 1
fi

if [ "${ITSTACK_SAML_ENABLED:-0}" = 1 ]; then
    # GLPI 11 has no SAML in core: the samlSSO plugin (listed in GLPI's plugin documentation),
    # pinned by version and SHA-256, unpacked into the marketplace directory of the data volume.
    zip=/tmp/samlsso.zip
    curl -fsSL --max-time 120 -o "$zip" "$ITSTACK_SAMLSSO_URL"
    echo "$ITSTACK_SAMLSSO_SHA256  $zip" | sha256sum -c -
    rm -rf "$GLPI_MARKETPLACE_DIR/samlsso"
    php -r '$z = new ZipArchive(); if ($z->open($argv[1]) !== true || !$z->extractTo($argv[2])) { exit(1); }' \
        "$zip" "$GLPI_MARKETPLACE_DIR"
    # Both commands refuse to run twice (already installed / active); the state is checked below.
    console plugin:install --username=glpi samlsso || true
    console plugin:activate samlsso || true

    # The IdP signing certificate, from Keycloak's SAML descriptor (back channel).
    cert=$(curl -fsS --max-time 20 "$ITSTACK_IDP_METADATA_URL" | php -r '
        $x = new DOMDocument(); $x->loadXML(stream_get_contents(STDIN));
        foreach ($x->getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "X509Certificate") as $c) {
            echo preg_replace("/\s+/", "", $c->textContent); exit(0);
        }
        exit(1);')
    export MYSQL_PWD="$GLPI_DB_PASSWORD"
    sql() { mysql -h "$GLPI_DB_HOST" -P "$GLPI_DB_PORT" -u "$GLPI_DB_USER" "$GLPI_DB_NAME" -N -e "$1"; }
    q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
    # validate_destination feeds onelogin's relaxDestinationValidation (ConfigEntity): 0 keeps the
    # Destination check of every response on.
    fields="name='IT-Stack Keycloak', conf_domain=$(q "$ITSTACK_DOMAIN"), conf_icon='fa-solid fa-key',
        enforce_sso=0, proxied=1, strict=1, debug=0, user_jit=1, sp_certificate='', sp_private_key='',
        sp_nameid_format='urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
        idp_entity_id=$(q "$ITSTACK_IDP_ENTITY_ID"), idp_single_sign_on_service=$(q "$ITSTACK_IDP_SSO_URL"),
        idp_single_logout_service=$(q "$ITSTACK_IDP_SSO_URL"), idp_certificate=$(q "$cert"),
        requested_authn_context='', requested_authn_context_comparison='exact',
        security_nameidencrypted=0, security_authnrequestssigned=0, security_logoutrequestsigned=0,
        security_logoutresponsesigned=0, compress_requests=0, compress_responses=0, validate_xml=1,
        validate_destination=0, lowercase_url_encoding=0, is_active=1, is_deleted=0,
        comment='Managed by the itstack Pulumi program'"
    if [ "$(sql "SELECT state FROM glpi_plugins WHERE directory = 'samlsso'")" != 1 ]; then
        echo "itstack: the samlsso plugin is not active" >&2   # Plugin::ACTIVATED = 1
        exit 1
    fi
    if [ -n "$(sql "SELECT id FROM glpi_plugin_samlsso_configs WHERE id = 1")" ]; then
        sql "UPDATE glpi_plugin_samlsso_configs SET $fields WHERE id = 1"
    else
        sql "INSERT INTO glpi_plugin_samlsso_configs SET id = 1, $fields"
    fi
fi
echo "itstack: GLPI configured"
