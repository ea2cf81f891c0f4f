"""FreePBX 15 / Asterisk 17 in the `tiredofit/freepbx` image, on its own MariaDB database.

Image facts (github.com/tiredofit/docker-freepbx at tag 5.2.0: README, install/assets/defaults/
10-freepbx, install/etc/cont-init.d/10-freepbx; SMTP from its base image tiredofit/debian,
install/etc/cont-init.d/06-messaging):
- DB_EMBEDDED=FALSE with DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASS installs FreePBX into that one
  database (the CDR tables go into the same database: `--cdrdbname=$DB_NAME`);
- the first start downloads and installs FreePBX and its modules: 10 to 40 minutes;
- RTP_START/RTP_FINISH are written to the `sipsettings` table but not applied (RTP_APPLY below);
  SIP (PJSIP) listens on 5060;
- outgoing mail (voicemail to e-mail) goes through msmtp: SMTP_HOST, SMTP_PORT, SMTP_AUTHENTICATION,
  SMTP_USER, SMTP_PASS, SMTP_TLS, SMTP_STARTTLS, SMTP_TLSCERTCHECK, SMTP_FROM, SMTP_MAILDOMAIN.

FreePBX 15 creates no administrator on install: the first visitor of /admin would create one. A
one-shot job creates `itstack-admin` (random password, secret) in table `ampusers` right after the
install, so that window stays closed.

SIP and RTP bypass Traefik and are published on the host address, UDP (and SIP also TCP). The
RTP range is small on purpose (RTP_PORTS): every port is its own Docker port mapping.
"""
from __future__ import annotations

from urllib.parse import urlparse

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import ServiceContext, env_list, health
from components.data.credentials import DatabaseCredentials, SmtpCredentials
from components.identity.freeipa import Directory

HTTP_PORT = 80
SIP_PORT = 5060
# First and last RTP port (inclusive), before the host's port offset. 20 ports = 10 calls with
# audio in both directions; widen it here when the site needs more concurrent calls.
RTP_PORTS = (18000, 18019)
ADMIN_USER = "itstack-admin"
# The image's 10-freepbx writes RTP_START/RTP_FINISH into `sipsettings` after the install's last
# `fwconsole reload` and then only runs `fwconsole start`, so Asterisk keeps the rtp.conf of the
# install (10000-20000) while only RTP_PORTS are published. This init script runs next (cont-init.d
# order, Asterisk already started) and regenerates the configuration from the database.
RTP_APPLY = "/etc/cont-init.d/11-itstack-rtp"
RTP_APPLY_SCRIPT = """#!/bin/bash
# Written by itstack (components/communications/freepbx.py): apply the RTP range in sipsettings.
fwconsole reload || echo "itstack: fwconsole reload failed; the RTP range may be the install's" >&2
"""
# Root runs cont-init.d scripts; 0755 like the image's own.
RTP_APPLY_MODE = "0755"

ADMIN_SCRIPT = r"""set -eu
export MYSQL_PWD="$DB_PASS"
for i in $(seq 1 60); do
  if mysql -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$DB_NAME" -Nse "SELECT COUNT(*) FROM ampusers" >/dev/null 2>&1; then break; fi
  [ "$i" = 60 ] && { echo "FreePBX tables not ready" >&2; exit 1; }
  sleep 10
done
mysql -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$DB_NAME" <<SQL
INSERT INTO ampusers (username, password_sha1, extension_low, extension_high, deptname, sections)
     VALUES ('$ADMIN_USER', SHA1('$ADMIN_PASSWORD'), '', '', '', '*')
ON DUPLICATE KEY UPDATE password_sha1=VALUES(password_sha1), sections='*';
SQL
echo "FreePBX administrator $ADMIN_USER ready"
"""


class FreePBX(pulumi.ComponentResource):
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        database: DatabaseCredentials,
        directory: Directory | None,
        smtp: SmtpCredentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("itstack:communications:FreePBX", "freepbx", None, opts)
        address = ctx.host.address
        # SIP on UDP and TCP; RTP with the same numbers inside and outside, so the ports Asterisk
        # puts in its SDP are the ones published (the host's offset shifts the range itself).
        self.sip_endpoints = [ctx.endpoint(SIP_PORT, published=True, protocol=proto) for proto in ("udp", "tcp")]
        sip_host_port = self.sip_endpoints[0].published
        self.rtp_start = ctx.host.published_port(RTP_PORTS[0])
        self.rtp_end = ctx.host.published_port(RTP_PORTS[1])
        self.rtp_endpoints = [
            ctx.endpoint(ctx.host.published_port(p), published=True, host_port=p, protocol="udp")
            for p in range(RTP_PORTS[0], RTP_PORTS[1] + 1)
        ]
        self.ctx = ctx
        self.url = ctx.url
        self.sip = f"{address}:{sip_host_port}"
        ro = pulumi.ResourceOptions(parent=self)
        self.admin_password = random.RandomPassword("freepbx-admin-password", length=32, special=False, opts=ro)

        data = ctx.volume(self, "data")
        www = ctx.volume(self, "www")
        self.endpoint = ctx.endpoint(HTTP_PORT)
        env = {
            "DB_EMBEDDED": "FALSE",
            "DB_HOST": database.host,
            "DB_PORT": str(database.port),
            "DB_NAME": database.database,
            "DB_USER": database.user,
            "DB_PASS": database.password,
            "RTP_START": str(self.rtp_start),
            "RTP_FINISH": str(self.rtp_end),
            # TLS ends at Traefik; the admin UI at /admin, not the UCP, is the front page.
            "ENABLE_SSL": "FALSE",
            "HTTP_PORT": str(HTTP_PORT),
            "UCP_FIRST": "FALSE",
            "ENABLE_FAIL2BAN": "TRUE",
            "ZABBIX_HOSTNAME": ctx.container_name(),
        }
        if smtp is not None:
            env.update(
                {
                    "ENABLE_SMTP": "TRUE",
                    "SMTP_HOST": smtp.host,
                    "SMTP_PORT": str(smtp.port),
                    "SMTP_AUTHENTICATION": "on",
                    "SMTP_USER": smtp.user,
                    "SMTP_PASS": smtp.password,
                    "SMTP_TLS": "TRUE",
                    "SMTP_STARTTLS": "TRUE",
                    # iRedMail presents its own self-signed certificate.
                    "SMTP_TLSCERTCHECK": "FALSE",
                    "SMTP_FROM": smtp.from_address,
                    "SMTP_MAILDOMAIN": ctx.domain,
                    "SMTP_DOMAIN": ctx.fqdn,
                }
            )
        else:
            env["ENABLE_SMTP"] = "FALSE"
        directory_net = directory.network if directory else None
        self.container = ctx.container(
            self,
            envs=env_list(env),
            endpoints=[self.endpoint, *self.sip_endpoints, *self.rtp_endpoints],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=data.name, container_path="/data"),
                docker.ContainerVolumeArgs(volume_name=www.name, container_path="/var/www/html"),
            ],
            networks=[database.network, smtp.network if smtp else None]
            + ([directory_net] if isinstance(directory_net, docker.Network) else []),
            network_names=[directory_net] if isinstance(directory_net, str) else [],
            uploads=[docker.ContainerUploadArgs(file=RTP_APPLY, content=pulumi.Output.secret(RTP_APPLY_SCRIPT),
                                                permissions=RTP_APPLY_MODE)],
            # The admin UI answers through Apache and PHP, and Asterisk answers its CLI with the
            # published RTP range in effect.
            healthcheck=health(
                [
                    f"curl -fsS --max-time 4 -o /dev/null http://127.0.0.1:{HTTP_PORT}/admin/config.php",
                    "asterisk -rx 'core show version' | grep -q Asterisk",
                    f"asterisk -rx 'rtp show settings' | grep -Eq 'Port start: +{self.rtp_start}([^0-9]|$)'",
                    f"asterisk -rx 'rtp show settings' | grep -Eq 'Port end: +{self.rtp_end}([^0-9]|$)'",
                ],
                interval="30s",
                retries=10,
                # First start installs FreePBX and its modules (10 to 40 minutes).
                start_period="2700s",
            ),
            wait_timeout=3600,
            # Fail2ban bans SIP scanners with iptables inside the container.
            extra={"capabilities": docker.ContainerCapabilitiesArgs(adds=["CAP_NET_ADMIN"])},
            depends_on=[database.ready] + ([smtp.ready] if smtp else []),
        )
        self.admin_job = docker.Container(
            "freepbx-admin-user",
            name=f"{ctx.container_name()}-admin-user",
            image=ctx.image(self).image_id,
            entrypoints=["/bin/bash", "-c"],
            command=[ADMIN_SCRIPT],
            envs=env_list(
                {
                    "DB_HOST": database.host,
                    "DB_PORT": str(database.port),
                    "DB_NAME": database.database,
                    "DB_USER": database.user,
                    "DB_PASS": database.password,
                    "ADMIN_USER": ADMIN_USER,
                    "ADMIN_PASSWORD": self.admin_password.result,
                }
            ),
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=n.name)
                for n in [ctx.host.network(ctx.tier), database.network]
                if n is not None
            ],
            attach=True,
            must_run=False,
            logs=True,
            labels=[
                docker.ContainerLabelArgs(label="org.itstack.service", value="freepbx"),
                docker.ContainerLabelArgs(label="org.itstack.role", value="admin-user"),
            ],
            opts=ctx.opts(self, depends_on=[self.container], additional_secret_outputs=["envs"]),
        )
        # For the User Management LDAP directory, entered by hand (docs/services/communications.md).
        self.directory = None
        if directory is not None:
            u = urlparse(directory.ldap_url)
            self.directory = {
                "host": u.hostname,
                "port": u.port or (636 if u.scheme == "ldaps" else 389),
                "base_dn": directory.base_dn,
                "users_dn": directory.users_dn,
                "groups_dn": directory.groups_dn,
                "bind_dn": directory.bind_dn,
            }
        self.register_outputs({"url": self.url, "sip": self.sip, "rtp": f"{self.rtp_start}-{self.rtp_end}"})
