"""What each pinned application image expects of the containers the program declares.

Every entry was read in the image's own sources (entrypoint, config templates, Dockerfile, health
scripts) at `read_at`; `sources` names the files. test_image_contracts.py checks the recorded
resource graph against these facts, so a wrong env name or value, an upload the image's user
cannot read or run, a health check calling a binary the image lacks, a port it does not listen
on, or a volume where it keeps no state fails in the unit lane.

Where the upstream source at the pinned tag was not available here, `read_at` says what was read
instead (an older or newer tree of the same image) and docs/services/<tier>.md says so too.
Facts are data, read by hand; nothing here is copied from those projects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# Always present in the Debian/Ubuntu/Alpine userlands these images build on (coreutils or busybox).
BASE_TOOLS = frozenset({"sh", "grep", "head", "tr", "test", "[", "cat", "date", "timeout", "printf", "echo"})
SHELL_WORDS = frozenset({"exec", "set", "export", "true", "false", "!", "{", "}", "if", "then", "fi", "do",
                         "done", "for", "until", "while", "case", "esac"})
BOOL01 = r"^(0|1|true|false)$"


@dataclass(frozen=True)
class ImageContract:
    image: str                      # "repository:tag" as the catalogue pins it (digest left out)
    read_at: str                    # what was read, e.g. "nextcloud/docker@4de1eed (33/apache, 33.0.7)"
    sources: tuple[str, ...]
    env: frozenset[str] = frozenset()          # names the image (entrypoint, templates, app config) reads
    env_prefixes: tuple[str, ...] = ()         # families mapped onto config keys (MM_*, GRAYLOG_*)
    env_values: Mapping[str, str] = field(default_factory=dict)   # name -> regex of what it accepts
    required: Mapping[str, str] = field(default_factory=dict)     # name -> regex, must be set so
    env_ignored: Mapping[str, str] = field(default_factory=dict)  # name -> why setting it does nothing
    user: str = "root"              # who runs the entrypoint, its hooks and our uploaded scripts
    executes: Mapping[str, str] = field(default_factory=dict)     # upload path -> user executing it by path
    binaries: frozenset[str] = frozenset()     # beyond BASE_TOOLS, what a health check may call
    ports: frozenset[tuple[int, str]] = frozenset()  # (port, protocol) it listens on
    state: frozenset[str] = frozenset()        # container paths where it keeps state (volumes)
    # (first, last, protocol): a port range the image takes from two of its env variables
    env_port_range: tuple[str, str, str] | None = None


def _c(image, read_at, sources, **kw) -> ImageContract:
    for key in ("env", "binaries", "state"):
        if key in kw:
            kw[key] = frozenset(kw[key])
    if "ports" in kw:
        kw["ports"] = frozenset(p if isinstance(p, tuple) else (p, "tcp") for p in kw["ports"])
    return ImageContract(image=image, read_at=read_at, sources=tuple(sources), **kw)


NEXTCLOUD = _c(
    "nextcloud:33.0.9-apache",
    "nextcloud/docker@4de1eed6, 33/apache (NEXTCLOUD_VERSION 33.0.7; 33.0.9 is not in the stored tree)",
    ["33/apache/entrypoint.sh", "33/apache/Dockerfile", "33/apache/config/smtp.config.php",
     "33/apache/config/reverse-proxy.config.php", "33/apache/config/redis.config.php", "33/apache/cron.sh"],
    env={"POSTGRES_HOST", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "NEXTCLOUD_ADMIN_USER",
         "NEXTCLOUD_ADMIN_PASSWORD", "NEXTCLOUD_TRUSTED_DOMAINS", "OVERWRITEPROTOCOL", "OVERWRITECLIURL",
         "TRUSTED_PROXIES", "PHP_MEMORY_LIMIT", "PHP_UPLOAD_LIMIT", "SMTP_HOST", "SMTP_PORT", "SMTP_NAME",
         "SMTP_PASSWORD", "MAIL_FROM_ADDRESS", "MAIL_DOMAIN"},
    env_ignored={"SMTP_AUTHTYPE": "only feeds mail_smtpauthtype (default LOGIN), which Nextcloud's mailer "
                                  "no longer reads",
                 "REDIS_HOST": "the image's Redis config has no database index: ours is zz-itstack.config.php"},
    # The entrypoint starts as root, but PHP (Apache workers, occ, cron.php) and the hooks run as
    # www-data: run_path() does `su -p www-data -s /bin/sh -c <hook>` after an `-x` test.
    user="www-data",
    executes={"/docker-entrypoint-hooks.d/before-starting/": "www-data"},
    binaries={"curl", "php", "bash", "busybox"},
    ports={80},
    state={"/var/www/html"},
)

MATTERMOST = _c(
    "mattermost/mattermost-team-edition:10.5.2",
    "documentation only (no stored copy of mattermost/mattermost's server/build/Dockerfile): every "
    "MM_<SECTION>_<KEY> overrides config.json",
    ["docs: Mattermost environment configuration settings"],
    env_prefixes=("MM_",),
    user="mattermost",
    binaries={"curl"},
    ports={8065},
    state={"/mattermost/data", "/mattermost/config", "/mattermost/plugins", "/mattermost/client/plugins"},
)

_JITSI_TAG = "jitsi/docker-jitsi-meet@stable-10888"
JITSI_WEB = _c(
    "jitsi/web:stable-10888", _JITSI_TAG,
    ["web/rootfs/defaults/meet.conf", "web/rootfs/defaults/nginx.conf", "web/rootfs/etc/cont-init.d/10-config"],
    env={"XMPP_DOMAIN", "PUBLIC_URL", "TZ", "ENABLE_AUTH", "ENABLE_GUESTS",
         "DISABLE_HTTPS", "ENABLE_HTTP_REDIRECT", "XMPP_BOSH_URL_BASE", "ENABLE_COLIBRI_WEBSOCKET",
         "COLIBRI_WEBSOCKET_REGEX", "TOKEN_AUTH_URL"},
    env_values={"ENABLE_AUTH": BOOL01, "ENABLE_GUESTS": BOOL01, "DISABLE_HTTPS": BOOL01,
                "ENABLE_HTTP_REDIRECT": BOOL01, "ENABLE_COLIBRI_WEBSOCKET": BOOL01},
    # meet.conf adds the /colibri-ws/ location only with ENABLE_COLIBRI_WEBSOCKET (default 0).
    required={"ENABLE_COLIBRI_WEBSOCKET": r"^(1|true)$"},
    binaries={"curl"},
    ports={80},
)
JITSI_PROSODY = _c(
    "jitsi/prosody:stable-10888", _JITSI_TAG,
    ["prosody/rootfs/defaults/prosody.cfg.lua", "prosody/rootfs/defaults/conf.d/jitsi-meet.cfg.lua",
     "prosody/rootfs/etc/cont-init.d/10-config", "prosody/rootfs/usr/local/bin/healthcheck.sh", "prosody/Dockerfile"],
    env={"XMPP_DOMAIN", "XMPP_SERVER", "PUBLIC_URL", "TZ", "ENABLE_AUTH", "ENABLE_GUESTS", "AUTH_TYPE",
         "JICOFO_AUTH_PASSWORD", "JVB_AUTH_PASSWORD", "JWT_APP_ID", "JWT_APP_SECRET", "JWT_ACCEPTED_ISSUERS",
         "JWT_ACCEPTED_AUDIENCES", "XMPP_MODULES"},
    env_values={"ENABLE_AUTH": BOOL01, "ENABLE_GUESTS": BOOL01, "AUTH_TYPE": r"^(internal|jwt|ldap|matrix|hybrid_matrix_token)$"},
    user="prosody",  # cont-init chowns /prosody-plugins-custom to prosody, which loads the module
    binaries={"curl"},
    ports={5222, 5280},
)
JITSI_JICOFO = _c(
    "jitsi/jicofo:stable-10888", _JITSI_TAG, ["jicofo/rootfs/defaults/jicofo.conf"],
    env={"XMPP_DOMAIN", "XMPP_SERVER", "TZ", "ENABLE_AUTH", "AUTH_TYPE", "JICOFO_AUTH_PASSWORD"},
    env_values={"ENABLE_AUTH": BOOL01, "AUTH_TYPE": r"^(internal|jwt|ldap|matrix|hybrid_matrix_token)$"},
    binaries={"curl"},
    ports={8888},
)
JITSI_JVB = _c(
    "jitsi/jvb:stable-10888", _JITSI_TAG, ["jvb/rootfs/defaults/jvb.conf"],
    env={"XMPP_SERVER", "PUBLIC_URL", "TZ", "JVB_AUTH_PASSWORD", "JVB_PORT", "JVB_ADVERTISE_IPS",
         "ENABLE_COLIBRI_WEBSOCKET", "JVB_WS_SERVER_ID"},
    env_values={"ENABLE_COLIBRI_WEBSOCKET": BOOL01, "JVB_PORT": r"^\d+$"},
    binaries={"curl"},
    ports={(10000, "udp"), 8080, 9090},
)

IREDMAIL = _c(
    "iredmail/mariadb:stable",
    "iredmail/dockerized@stable (the image tag is the branch)",
    ["Dockerfiles/Dockerfile", "entrypoints/*.sh", "config/etc/mysql/my.cnf", "config/etc/nginx/nginx.conf"],
    env={"HOSTNAME", "FIRST_MAIL_DOMAIN", "FIRST_MAIL_DOMAIN_ADMIN_PASSWORD", "MYSQL_ROOT_PASSWORD",
         "VMAIL_DB_ADMIN_PASSWORD", "ROUNDCUBE_DES_KEY", "MLMMJADMIN_API_TOKEN", "MESSAGE_SIZE_LIMIT_IN_MB"},
    binaries={"curl", "mysql", "bash"},
    # 8081: our own plain-HTTP server block, included from /opt/iredmail/custom/nginx/sites-enabled/.
    ports={25, 465, 587, 143, 993, 8081},
    state={"/var/vmail", "/var/lib/mysql", "/opt/iredmail/ssl", "/var/spool/postfix", "/var/lib/clamav"},
)

ZAMMAD = _c(
    "ghcr.io/zammad/zammad:6.5.2",
    "zammad/zammad contrib/docker/docker-entrypoint.sh as stored (commit 0e248724; the repository is too "
    "large to fetch whole, so not checked against the 6.5.2 tag itself)",
    ["contrib/docker/docker-entrypoint.sh", "app/controllers/monitoring_controller.rb (health_check JSON)"],
    env={"POSTGRESQL_HOST", "POSTGRESQL_PORT", "POSTGRESQL_DB", "POSTGRESQL_USER", "POSTGRESQL_PASS",
         "POSTGRESQL_OPTIONS", "POSTGRESQL_DB_CREATE", "ELASTICSEARCH_ENABLED", "ELASTICSEARCH_SCHEMA",
         "ELASTICSEARCH_HOST", "ELASTICSEARCH_PORT", "ELASTICSEARCH_USER", "ELASTICSEARCH_PASS",
         "ELASTICSEARCH_NAMESPACE", "RAILS_TRUSTED_PROXIES", "NGINX_PORT", "NGINX_SERVER_SCHEME",
         "ZAMMAD_RAILSSERVER_HOST", "ZAMMAD_RAILSSERVER_PORT", "ZAMMAD_WEBSOCKET_HOST", "ZAMMAD_WEBSOCKET_PORT",
         # read by Zammad itself (Rails), not the entrypoint
         "REDIS_URL", "TZ"},
    env_values={"POSTGRESQL_DB_CREATE": r"^(true|false)$", "ELASTICSEARCH_ENABLED": r"^(true|false)$"},
    env_ignored={"ZAMMAD_FQDN": "the entrypoint reads no FQDN variable: set fqdn in the database (zammad_setup.rb)",
                 "ZAMMAD_HTTP_TYPE": "the entrypoint reads no scheme variable: set http_type in the database"},
    user="zammad",
    binaries={"curl", "bash", "bundle"},
    ports={3000, 6042, 8088},
    state={"/opt/zammad/storage", "/opt/zammad/tmp"},
)

FREEPBX = _c(
    "tiredofit/freepbx:5.2.0",
    "tiredofit/docker-freepbx@5.2.0",
    ["install/assets/defaults/10-freepbx", "install/etc/cont-init.d/10-freepbx", "Dockerfile",
     "tiredofit/docker-debian@2b96b8df install/etc/cont-init.d/06-messaging (SMTP_* for msmtp); "
     "ZABBIX_HOSTNAME, ENABLE_FAIL2BAN from the same base (README)"],
    env={"DB_EMBEDDED", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS", "RTP_START", "RTP_FINISH",
         "ENABLE_SSL", "HTTP_PORT", "UCP_FIRST", "ENABLE_FAIL2BAN", "ZABBIX_HOSTNAME", "ENABLE_SMTP",
         "SMTP_HOST", "SMTP_PORT", "SMTP_AUTHENTICATION", "SMTP_USER", "SMTP_PASS", "SMTP_TLS", "SMTP_STARTTLS",
         "SMTP_TLSCERTCHECK", "SMTP_FROM", "SMTP_MAILDOMAIN", "SMTP_DOMAIN"},
    env_values={"DB_EMBEDDED": r"^(TRUE|FALSE)$", "ENABLE_SSL": r"^(TRUE|FALSE)$", "UCP_FIRST": r"^(TRUE|FALSE)$",
                "ENABLE_SMTP": r"^(TRUE|FALSE)$", "RTP_START": r"^\d+$", "RTP_FINISH": r"^\d+$",
                # truefalse_onoff in the base image's 06-messaging
                "SMTP_TLS": r"^(TRUE|FALSE)$", "SMTP_STARTTLS": r"^(TRUE|FALSE)$",
                "SMTP_TLSCERTCHECK": r"^(TRUE|FALSE)$", "SMTP_AUTHENTICATION": r"^(on|off|plain|login)$"},
    # s6 runs /etc/cont-init.d/* as root, in name order: ours (11-) after 10-freepbx's `fwconsole start`.
    executes={"/etc/cont-init.d/": "root"},
    binaries={"curl", "asterisk", "mysql", "bash", "fwconsole"},
    ports={80, (5060, "udp"), 5060},
    env_port_range=("RTP_START", "RTP_FINISH", "udp"),
    state={"/data", "/var/www/html"},
)

SUITECRM = _c(
    "bitnamilegacy/suitecrm:8.8.0",
    "bitnami/containers@043f89c8, bitnami/suitecrm/8/debian-12",
    ["rootfs/opt/bitnami/scripts/libsuitecrm.sh (suitecrm_validate, suitecrm_pass_wizard, SMTP wizard)",
     "rootfs/opt/bitnami/scripts/suitecrm/entrypoint.sh", "README.md"],
    env={"SUITECRM_DATABASE_HOST", "SUITECRM_DATABASE_PORT_NUMBER", "SUITECRM_DATABASE_NAME",
         "SUITECRM_DATABASE_USER", "SUITECRM_DATABASE_PASSWORD", "SUITECRM_USERNAME", "SUITECRM_PASSWORD",
         "SUITECRM_EMAIL", "SUITECRM_HOST", "SUITECRM_ENABLE_HTTPS", "SUITECRM_SMTP_HOST",
         "SUITECRM_SMTP_PORT_NUMBER", "SUITECRM_SMTP_USER", "SUITECRM_SMTP_PASSWORD", "SUITECRM_SMTP_PROTOCOL",
         "SUITECRM_SMTP_NOTIFY_ADDRESS", "SUITECRM_SMTP_NOTIFY_NAME", "SUITECRM_VALIDATE_USER_IP"},
    # suitecrm_validate() under errexit: a value outside these stops the container before the installer.
    env_values={"SUITECRM_VALIDATE_USER_IP": r"^(true|false)$", "SUITECRM_ENABLE_HTTPS": r"^(yes|no|true|false)$",
                "SUITECRM_SMTP_PROTOCOL": r"^(ssl|tls)$", "SUITECRM_SMTP_PORT_NUMBER": r"^\d+$"},
    binaries={"curl", "bash", "php"},
    ports={8080},
    state={"/bitnami/suitecrm"},
)

ODOO = _c(
    "odoo:18.0",
    "odoo/docker@HEAD, 18.0/ (Dockerfile, entrypoint.sh, odoo.conf)",
    ["18.0/Dockerfile", "18.0/entrypoint.sh"],
    user="odoo",
    binaries={"python3", "odoo", "curl", "bash", "sha256sum"},
    ports={8069},
    state={"/var/lib/odoo"},
)

OPENKM = _c(
    "openkm/openkm-ce:6.3.12",
    "documentation only: the image's build is not public; what is known comes from OpenKM's docs and "
    "from images built on it (they add the PostgreSQL driver to /opt/tomcat/lib)",
    ["docs.openkm.com (OpenKM.cfg, server.xml JNDI resources)"],
    env={"JAVA_OPTS"},  # Tomcat's catalina.sh
    binaries={"bash"},
    ports={8080},
    state={"/opt/tomcat/repository"},
)

_TAIGA_BACK_ENV = {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",
                   "TAIGA_SECRET_KEY", "TAIGA_SITES_SCHEME", "TAIGA_SITES_DOMAIN", "TAIGA_SUBPATH",
                   "RABBITMQ_USER", "RABBITMQ_PASS", "EVENTS_PUSH_BACKEND_URL", "CELERY_BROKER_URL",
                   "ENABLE_TELEMETRY", "PUBLIC_REGISTER_ENABLED", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT",
                   "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL",
                   "DJANGO_SETTINGS_MODULE"}
TAIGA_BACK = _c(
    "taigaio/taiga-back:6.9.0", "taigaio/taiga-back@6.9.0",
    ["docker/Dockerfile", "docker/entrypoint.sh", "docker/async_entrypoint.sh", "docker/config.py"],
    env=_TAIGA_BACK_ENV,
    user="taiga",  # entrypoint runs as root, migrates, then `gosu taiga gunicorn`
    binaries={"python", "celery"},
    ports={8000},
    state={"/taiga-back/static", "/taiga-back/media"},
)
TAIGA_FRONT = _c(
    "taigaio/taiga-front:6.9.0",
    "documentation only (taiga-front not stored): nginx serving /usr/share/nginx/html, conf.json",
    # It serves back's static and media volumes read-only: no state of its own.
    ["docs: taiga-docker"], binaries={"wget"}, ports={80},
)
TAIGA_EVENTS = _c(
    "taigaio/taiga-events:6.9.0",
    "documentation only (taiga-events not stored): taiga-docker's docker-compose.yml",
    ["docs: taiga-docker docker-compose.yml"],
    env={"RABBITMQ_USER", "RABBITMQ_PASS", "TAIGA_EVENTS_RABBITMQ_HOST", "TAIGA_SECRET_KEY"},
    binaries={"wget"}, ports={8888, 3023},
)
TAIGA_PROTECTED = _c(
    "taigaio/taiga-protected:6.8.1",
    "documentation only (taiga-protected not stored): taiga-docker's docker-compose.yml",
    ["docs: taiga-docker docker-compose.yml"],
    env={"SECRET_KEY", "MAX_AGE"}, binaries={"python"}, ports={8003},
)
RABBITMQ = _c(
    "rabbitmq:3.13.7-alpine", "docker-library/rabbitmq (documented RABBITMQ_DEFAULT_* variables)",
    ["docs: hub.docker.com/_/rabbitmq"],
    env={"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"},
    binaries={"rabbitmq-diagnostics"}, ports={5672}, state={"/var/lib/rabbitmq"},
)

SNIPEIT = _c(
    "snipe/snipe-it:v8.7.2",
    "snipe/snipe-it@5aa5c480 (v8.1.4+180; the stored tree has no v8.7.2 tag)",
    ["Dockerfile", "docker/startup.sh", "config/trustedproxy.php", "config/queue.php", "config/mail.php",
     "config/database.php", "config/app.php"],
    env={"APP_ENV", "APP_DEBUG", "APP_KEY", "APP_URL", "APP_TIMEZONE", "APP_LOCALE", "APP_TRUSTED_PROXIES",
         "SECURE_COOKIES", "DB_CONNECTION", "DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USERNAME", "DB_PASSWORD",
         "CACHE_DRIVER", "SESSION_DRIVER", "QUEUE_CONNECTION", "IMAGE_LIB", "MAIL_MAILER", "MAIL_HOST", "MAIL_PORT",
         "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_ENCRYPTION", "MAIL_FROM_ADDR", "MAIL_FROM_NAME",
         "MAIL_REPLYTO_ADDR", "MAIL_REPLYTO_NAME"},
    # trustedproxy.php: explode(',', APP_TRUSTED_PROXIES): "*" becomes ['*'], which matches no address.
    env_values={"APP_TRUSTED_PROXIES": r"^[0-9a-fA-F.:]+(/\d+)?(,[0-9a-fA-F.:]+(/\d+)?)*$",
                "APP_KEY": r"^base64:", "QUEUE_CONNECTION": r"^(sync|database|redis|sqs|beanstalkd|null)$"},
    env_ignored={"QUEUE_DRIVER": "config/queue.php reads QUEUE_CONNECTION"},
    binaries={"curl", "php", "bash"},
    ports={80},
    state={"/var/lib/snipeit"},
)

GLPI = _c(
    "glpi/glpi:11.0.8",
    "glpi-project/docker-images@HEAD, glpi/ (no tags in the stored tree)",
    ["glpi/Dockerfile", "glpi/files/opt/glpi/entrypoint.sh", "glpi/files/opt/glpi/entrypoint/install.sh"],
    env={"GLPI_DB_HOST", "GLPI_DB_PORT", "GLPI_DB_NAME", "GLPI_DB_USER", "GLPI_DB_PASSWORD", "GLPI_CRONTAB_ENABLED",
         "GLPI_CONFIG_DIR", "GLPI_VAR_DIR", "GLPI_LOG_DIR", "GLPI_MARKETPLACE_DIR"},
    env_values={"GLPI_CRONTAB_ENABLED": r"^(0|1)$"},
    user="www-data",  # the Dockerfile's last USER
    binaries={"curl", "php", "mysql", "bash"},
    ports={80},
    state={"/var/glpi"},
)

_ZBX = "zabbix/zabbix-docker@7.0 branch (Dockerfiles ZBX_VERSION 7.0.5; the 7.0.28 tag is not stored)"
ZABBIX_SERVER = _c(
    "zabbix/zabbix-server-pgsql:alpine-7.0.28", _ZBX,
    ["Dockerfiles/server-pgsql/alpine/docker-entrypoint.sh", "Dockerfiles/server-pgsql/alpine/Dockerfile"],
    env={"DB_SERVER_HOST", "DB_SERVER_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "ZBX_CACHESIZE",
         "ZBX_STARTPOLLERS", "ZBX_STARTHTTPPOLLERS", "ZBX_STARTPINGERS"},
    user="1997", binaries={"bash", "pgrep"}, ports={10051},
)
ZABBIX_WEB = _c(
    "zabbix/zabbix-web-nginx-pgsql:alpine-7.0.28", _ZBX,
    ["Dockerfiles/web-nginx-pgsql/alpine/docker-entrypoint.sh",
     "Dockerfiles/web-nginx-pgsql/alpine/conf/etc/zabbix/web/zabbix.conf.php", "Dockerfiles/web-nginx-pgsql/alpine/Dockerfile"],
    env={"DB_SERVER_HOST", "DB_SERVER_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "ZBX_SERVER_HOST",
         "ZBX_SERVER_PORT", "ZBX_SERVER_NAME", "PHP_TZ", "ZBX_SSO_SETTINGS"},
    user="1997", binaries={"bash", "curl"}, ports={8080},
)
ZABBIX_AGENT = _c(
    "zabbix/zabbix-agent2:alpine-7.0.28", _ZBX,
    ["Dockerfiles/agent2/alpine/docker-entrypoint.sh", "Dockerfiles/agent2/alpine/Dockerfile"],
    env={"ZBX_HOSTNAME", "ZBX_SERVER_HOST", "ZBX_SERVER_PORT"},
    user="1997", binaries={"bash", "pgrep"}, ports={10050},
)

GRAYLOG = _c(
    "graylog/graylog:7.1.6",
    "Graylog2/graylog-docker@94968e4 (a 6.2 tree; no 7.1 tag stored): docker-entrypoint.sh maps every "
    "GRAYLOG_<KEY> onto server.conf's <key>",
    ["docker-entrypoint.sh", "docker/oss/Dockerfile", "health_check.sh", "config/graylog.conf"],
    env_prefixes=("GRAYLOG_",),
    user="graylog",
    binaries={"curl"},
    ports={9000, 12201, (12201, "udp"), 1514, (1514, "udp")},
    state={"/usr/share/graylog/data"},
)
MONGODB = _c(
    "mongo:7.0.39", "docker-library/mongo (documented MONGO_INITDB_ROOT_* variables)", ["docs: hub.docker.com/_/mongo"],
    env={"MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"}, binaries={"mongosh"}, ports={27017},
    state={"/data/db"},
)
OPENSEARCH = _c(
    "opensearchproject/opensearch:2.14.0",
    "opensearch docker docs: dotted names are settings; OPENSEARCH_JAVA_OPTS, DISABLE_SECURITY_PLUGIN, "
    "DISABLE_INSTALL_DEMO_CONFIG are read by opensearch-docker-entrypoint.sh",
    ["docs: opensearch.org/docs/2.14/install-and-configure/install-opensearch/docker/"],
    env={"OPENSEARCH_JAVA_OPTS", "DISABLE_SECURITY_PLUGIN", "DISABLE_INSTALL_DEMO_CONFIG", "discovery.type",
         "cluster.name", "action.auto_create_index", "plugins.security.disabled", "bootstrap.memory_lock"},
    env_values={"DISABLE_SECURITY_PLUGIN": r"^(true|false)$", "DISABLE_INSTALL_DEMO_CONFIG": r"^(true|false)$"},
    user="opensearch", binaries={"curl"}, ports={9200}, state={"/usr/share/opensearch/data"},
)

TRAEFIK = _c(
    "traefik:v3.7.13",
    "traefik/traefik v3 static configuration reference (configFile, ping, api, providers.file, accessLog); "
    "the image's entrypoint runs `traefik` with the given arguments",
    ["docs: doc.traefik.io/traefik/reference/static-configuration/file/", "docs: traefik healthcheck --ping"],
    binaries={"traefik"}, ports={80, 443}, state={"/data"},  # acme.json, in tls mode acme
)
ELASTICSEARCH = _c(
    "docker.elastic.co/elasticsearch/elasticsearch:8.19.19",
    "Elasticsearch docker docs: dotted names are settings; ELASTIC_PASSWORD and ES_JAVA_OPTS are read by the "
    "image's entrypoint",
    ["docs: elastic.co/guide/en/elasticsearch/reference/8.19/docker.html"],
    env={"ELASTIC_PASSWORD", "ES_JAVA_OPTS", "discovery.type", "cluster.name", "xpack.security.enabled",
         "xpack.security.http.ssl.enabled"},
    env_values={"xpack.security.enabled": r"^(true|false)$", "xpack.security.http.ssl.enabled": r"^(true|false)$"},
    user="elasticsearch", binaries={"curl"}, ports={9200}, state={"/usr/share/elasticsearch/data"},
)

# (service, role) -> contract of the image that container runs. Roles are the org.itstack.role labels;
# one-shot jobs run their service's image with our own script (ACCOUNT_SCRIPT, ADMIN_SCRIPT, ...).
CONTRACTS: dict[tuple[str, str], ImageContract] = {
    ("nextcloud", "main"): NEXTCLOUD, ("nextcloud", "cron"): NEXTCLOUD,
    ("mattermost", "main"): MATTERMOST,
    ("jitsi", "web"): JITSI_WEB, ("jitsi", "prosody"): JITSI_PROSODY, ("jitsi", "jicofo"): JITSI_JICOFO,
    ("jitsi", "jvb"): JITSI_JVB,
    ("iredmail", "main"): IREDMAIL, ("iredmail", "account-*"): IREDMAIL,
    ("zammad", "init"): ZAMMAD, ("zammad", "railsserver"): ZAMMAD, ("zammad", "scheduler"): ZAMMAD,
    ("zammad", "websocket"): ZAMMAD, ("zammad", "nginx"): ZAMMAD,
    ("freepbx", "main"): FREEPBX, ("freepbx", "admin-user"): FREEPBX,
    ("suitecrm", "main"): SUITECRM,
    ("odoo", "main"): ODOO, ("odoo", "init"): ODOO,
    ("openkm", "main"): OPENKM, ("openkm", "jdbc"): ODOO,  # the driver download runs in the Odoo image
    ("taiga", "back"): TAIGA_BACK, ("taiga", "async"): TAIGA_BACK, ("taiga", "admin"): TAIGA_BACK,
    ("taiga", "front"): TAIGA_FRONT, ("taiga", "events"): TAIGA_EVENTS, ("taiga", "protected"): TAIGA_PROTECTED,
    ("taiga", "rabbitmq"): RABBITMQ,
    ("snipeit", "main"): SNIPEIT, ("snipeit", "configure"): SNIPEIT, ("snipeit", "ldapsync"): SNIPEIT,
    ("glpi", "main"): GLPI, ("glpi", "configure"): GLPI, ("glpi", "roles"): GLPI,
    ("zabbix", "server"): ZABBIX_SERVER, ("zabbix", "web"): ZABBIX_WEB, ("zabbix", "agent"): ZABBIX_AGENT,
    ("graylog", "main"): GRAYLOG, ("graylog", "mongodb"): MONGODB, ("graylog", "opensearch"): OPENSEARCH,
    ("traefik", "main"): TRAEFIK,
    ("elasticsearch", "main"): ELASTICSEARCH,
}

# Services whose images are not applications of this issue (identity and data tiers have their own
# contracts in tests/containers).
NOT_COVERED = frozenset({"freeipa", "keycloak", "postgresql", "mariadb", "redis"})


def contract_for(service: str, role: str) -> ImageContract | None:
    if (service, role) in CONTRACTS:
        return CONTRACTS[(service, role)]
    for (s, r), c in CONTRACTS.items():
        if s == service and r.endswith("*") and role.startswith(r[:-1]):
            return c
    return None
