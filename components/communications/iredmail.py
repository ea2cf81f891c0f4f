"""iRedMail: the stack's own mail server (Postfix, Dovecot, Roundcube, MariaDB backend) in the
upstream all-in-one image `iredmail/mariadb`.

Every other service sends mail through it with its OWN mailbox: `account(service, host)` creates
`<service>@<domain>` with a random password in iRedMail's SQL backend (table `vmail.mailbox`,
the same rows iRedMail's own `create_user` tool writes) and returns `SmtpCredentials` for
submission on port 587 (STARTTLS, SMTP AUTH). Postfix only lets a login send as its own address.

How the image works (read in github.com/iredmail/dockerized, entrypoints/ and settings.conf):
- settings come from env vars; SQL passwords left empty are regenerated on every start, so the
  ones we use from outside (root, vmailadmin) are given, random and secret;
- MariaDB runs inside the container and reads `/opt/iredmail/custom/mysql/*.cnf`: we bind it to
  127.0.0.1, so no other container can reach the mail accounts database at all;
- nginx serves Roundcube on 443 only (80 redirects to https), so Traefik gets an extra plain-HTTP
  server on WEB_PORT (8081) from `/opt/iredmail/custom/nginx/sites-enabled/`.
"""
from __future__ import annotations

import re

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from components.data.credentials import SmtpCredentials

SMTP_PORT = 25
SUBMISSION_PORT = 587
SMTPS_PORT = 465
IMAP_PORT = 143
IMAPS_PORT = 993
# Plain HTTP for Traefik (TLS ends at the edge); the image's own 443 stays for direct use.
WEB_PORT = 8081
# Mailboxes of services hold bounces and replies only.
SERVICE_MAILBOX_QUOTA_MB = 256

_SERVICE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

MYSQL_CNF = "[mysqld]\n# Only processes in this container (and jobs sharing its network namespace) reach MariaDB.\nbind-address = 127.0.0.1\n"

NGINX_HTTP_SITE = f"""# Managed by itstack: plain HTTP for the edge proxy, which terminates TLS.
server {{
    listen {WEB_PORT};
    server_name _;
    index index.php index.html;
    include /etc/nginx/templates/misc.tmpl;
    include /etc/nginx/sites-conf.d/default-ssl/*.conf;
    include /etc/nginx/templates/roundcube-homepage.tmpl;
    root /opt/www/roundcubemail;
}}
"""

# Runs inside a one-shot container that shares the mail container's network namespace, so it
# reaches MariaDB on 127.0.0.1 as `vmailadmin` (SELECT/INSERT/UPDATE/DELETE on vmail only).
# Same rows as iRedMail's /opt/iredmail/bin/create_user; the hash is SHA-512 crypt ({CRYPT},
# Dovecot's default_pass_scheme in this image), computed here so the password never reaches SQL.
ACCOUNT_SCRIPT = r"""set -eu
export MYSQL_PWD="$VMAIL_DB_ADMIN_PASSWORD"
sql() { mysql --protocol=tcp -h 127.0.0.1 -P 3306 -u vmailadmin vmail "$@"; }
for i in $(seq 1 60); do
  if sql -Nse "SELECT domain FROM domain WHERE domain='$MAIL_DOMAIN'" 2>/dev/null | grep -qx "$MAIL_DOMAIN"; then break; fi
  [ "$i" = 60 ] && { echo "vmail database or domain $MAIL_DOMAIN not ready" >&2; exit 1; }
  sleep 5
done
HASH="{CRYPT}$(printf '%s' "$MAILBOX_PASSWORD" | openssl passwd -6 -stdin)"
sql <<SQL
INSERT INTO mailbox (username, password, name, storagebasedirectory, storagenode, maildir, quota, domain,
                     active, passwordlastchange, created, modified)
     VALUES ('$MAILBOX', '$HASH', '$MAILBOX_NAME', '/var/vmail', 'vmail1', '$MAIL_DOMAIN/$MAILBOX_NAME/',
             $MAILBOX_QUOTA, '$MAIL_DOMAIN', 1, NOW(), NOW(), NOW())
ON DUPLICATE KEY UPDATE password=VALUES(password), quota=VALUES(quota), active=1,
                        passwordlastchange=NOW(), modified=NOW();
INSERT IGNORE INTO forwardings (address, forwarding, domain, dest_domain, is_forwarding)
     VALUES ('$MAILBOX', '$MAILBOX', '$MAIL_DOMAIN', '$MAIL_DOMAIN', 1);
SQL
echo "mailbox $MAILBOX ready"
"""


class IRedMail(pulumi.ComponentResource):
    """The mail server. `account(service, for_host)` gives a service its own mailbox."""

    def __init__(self, ctx: ServiceContext, opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:communications:IRedMail", "iredmail", None, opts)
        self.ctx = ctx
        self.domain = ctx.domain
        ro = pulumi.ResourceOptions(parent=self)

        def pw(purpose: str, length: int = 32) -> random.RandomPassword:
            return random.RandomPassword(f"iredmail-{purpose}", length=length, special=False, opts=ro)

        # Alphanumeric only: the image's entrypoint rewrites settings with `sed s#…#…#`.
        self.mysql_root_password = pw("mysql-root-password")
        self.vmail_admin_password = pw("vmailadmin-password")
        self.postmaster_password = pw("postmaster-password")
        des_key = pw("roundcube-des-key", 24)
        mlmmj_token = pw("mlmmjadmin-token")

        self.smtp = ctx.endpoint(SMTP_PORT, published=True)
        self.submission = ctx.endpoint(SUBMISSION_PORT, published=True)
        self.smtps = ctx.endpoint(SMTPS_PORT, published=True)
        self.imap = ctx.endpoint(IMAP_PORT, published=True)
        self.imaps = ctx.endpoint(IMAPS_PORT, published=True)
        self.web = ctx.endpoint(WEB_PORT)

        volumes = {
            "vmail": "/var/vmail",
            "mysql": "/var/lib/mysql",
            "ssl": "/opt/iredmail/ssl",
            "postfix-queue": "/var/spool/postfix",
            "clamav": "/var/lib/clamav",
        }
        self.volumes = {purpose: ctx.volume(self, purpose) for purpose in volumes}
        self.postmaster = f"postmaster@{self.domain}"
        self.container = ctx.container(
            self,
            envs=env_list(
                {
                    "HOSTNAME": ctx.fqdn,
                    "FIRST_MAIL_DOMAIN": self.domain,
                    "FIRST_MAIL_DOMAIN_ADMIN_PASSWORD": self.postmaster_password.result,
                    "MYSQL_ROOT_PASSWORD": self.mysql_root_password.result,
                    "VMAIL_DB_ADMIN_PASSWORD": self.vmail_admin_password.result,
                    "ROUNDCUBE_DES_KEY": des_key.result,
                    "MLMMJADMIN_API_TOKEN": mlmmj_token.result,
                    "MESSAGE_SIZE_LIMIT_IN_MB": "50",
                }
            ),
            endpoints=[self.smtp, self.submission, self.smtps, self.imap, self.imaps, self.web],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=self.volumes[p].name, container_path=path)
                for p, path in volumes.items()
            ],
            uploads=[
                docker.ContainerUploadArgs(file="/opt/iredmail/custom/mysql/itstack-bind.cnf",
                                           content=pulumi.Output.secret(MYSQL_CNF)),
                docker.ContainerUploadArgs(file="/opt/iredmail/custom/nginx/sites-enabled/itstack-http.conf",
                                           content=pulumi.Output.secret(NGINX_HTTP_SITE)),
            ],
            # Proves the three faces answer: webmail over HTTP, the accounts database with its
            # domain created, and Postfix's submission service greeting with 220.
            healthcheck=health(
                [
                    f"curl -fsS --max-time 4 http://127.0.0.1:{WEB_PORT}/ | grep -qi roundcube",
                    f"mysql --defaults-file=/root/.my.cnf -Nse \"SELECT domain FROM vmail.domain WHERE domain='{self.domain}'\" | grep -qx '{self.domain}'",
                    f"timeout 4 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{SUBMISSION_PORT}; head -c 3 <&3' | grep -q 220",
                ],
                interval="15s",
                retries=20,
                start_period="300s",
            ),
            wait_timeout=900,
            # The image checks HOSTNAME is a FQDN; the container's own name must match it.
            extra={"hostname": ctx.fqdn},
        )
        self._accounts: dict[str, tuple[random.RandomPassword, docker.Container]] = {}
        self.register_outputs({"fqdn": ctx.fqdn, "domain": self.domain, "postmaster": self.postmaster})

    def account(self, service: str, for_host: HostRuntime) -> SmtpCredentials:
        """The service's own mailbox `<service>@<domain>` (created once, on first request) and
        how `for_host` reaches the submission port."""
        if not _SERVICE_RE.match(service):
            raise ValueError(f"not a valid mailbox name for a service: {service!r}")
        if service not in self._accounts:
            ro = pulumi.ResourceOptions(parent=self)
            password = random.RandomPassword(f"iredmail-{service}-mailbox-password", length=32, special=False, opts=ro)
            job = docker.Container(
                f"iredmail-account-{service}",
                name=f"{self.ctx.container_name()}-account-{service}",
                image=self.ctx.image(self).image_id,
                entrypoints=["/bin/bash", "-c"],
                command=[ACCOUNT_SCRIPT],
                envs=env_list(
                    {
                        "MAILBOX": f"{service}@{self.domain}",
                        "MAILBOX_NAME": service,
                        "MAILBOX_QUOTA": str(SERVICE_MAILBOX_QUOTA_MB),
                        "MAIL_DOMAIN": self.domain,
                        "MAILBOX_PASSWORD": password.result,
                        "VMAIL_DB_ADMIN_PASSWORD": self.vmail_admin_password.result,
                    }
                ),
                # MariaDB listens on the mail container's loopback only: share its network namespace.
                network_mode=self.container.name.apply(lambda n: f"container:{n}"),
                attach=True,
                must_run=False,
                logs=True,
                labels=[
                    docker.ContainerLabelArgs(label="org.itstack.service", value="iredmail"),
                    docker.ContainerLabelArgs(label="org.itstack.role", value=f"account-{service}"),
                ],
                opts=self.ctx.opts(self, depends_on=[self.container], additional_secret_outputs=["envs"]),
            )
            self._accounts[service] = (password, job)
        password, job = self._accounts[service]
        host, port = self.submission.address_for(for_host)
        address = f"{service}@{self.domain}"
        return SmtpCredentials(
            host=host,
            port=port,
            user=address,
            password=pulumi.Output.secret(password.result),
            from_address=address,
            network=self.submission.network_for(for_host),
            ready=job,
        )
