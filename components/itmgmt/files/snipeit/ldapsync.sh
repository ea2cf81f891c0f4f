#!/bin/bash
# Hourly directory import for Snipe-IT (it creates no users on SAML login): Snipe-IT's own
# `snipeit:ldap-sync`, then the admin-group mapping. The health check reads the stamp file.
set -u
cd /var/www/html
while true; do
    if php artisan snipeit:ldap-sync --summary && php /opt/itstack/itstack.php roles; then
        date +%s > /tmp/itstack-last-sync
    else
        echo "itstack: directory sync failed" >&2
    fi
    sleep "${ITSTACK_SYNC_INTERVAL:-3600}"
done
