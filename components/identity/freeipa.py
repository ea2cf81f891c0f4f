"""FreeIPA: the directory every user and group comes from.

Two first-class modes, one contract (`Directory`):
- "container": FreeIPA server in a privileged container with the host cgroup namespace (what
  the upstream image needs), plus a one-shot job that creates Keycloak's read-only bind account.
- "external": a FreeIPA the site already runs, reached by URL and bind credentials.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health
from settings import Settings

LDAP_PORT = 389


@dataclass
class Directory:
    """How Keycloak (and other LDAP consumers) reach the directory."""

    ldap_url: str
    base_dn: str
    users_dn: str
    groups_dn: str
    bind_dn: str
    bind_password: pulumi.Output[str]
    # A Docker network to join to reach the directory: ours (a Network), a site's (its name),
    # or None when the directory is routed and there is nothing to join.
    network: docker.Network | str | None
    ready: pulumi.Resource | None


def freeipa_layout(base_dn: str) -> tuple[str, str]:
    """FreeIPA's fixed tree: users under cn=users,cn=accounts, groups under cn=groups,cn=accounts."""
    return f"cn=users,cn=accounts,{base_dn}", f"cn=groups,cn=accounts,{base_dn}"


class FreeIPA(pulumi.ComponentResource):
    """The identity source. Outputs `directory` (a `Directory`) in either mode."""

    def __init__(self, settings: Settings, ctx: ServiceContext | None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:identity:FreeIPA", "freeipa", None, opts)
        base_dn = settings.base_dn
        users_dn, groups_dn = freeipa_layout(base_dn)
        if settings.identity.mode == "external":
            ident = settings.identity
            self.container = None
            self.directory = Directory(
                ldap_url=ident.url,
                base_dn=base_dn,
                users_dn=users_dn,
                groups_dn=groups_dn,
                bind_dn=ident.bind_dn,
                bind_password=pulumi.Output.secret(settings.directory_bind_password),
                network=ident.network,
                ready=None,
            )
            self.register_outputs({"ldap_url": ident.url, "mode": "external"})
            return


        assert ctx is not None
        ro = pulumi.ResourceOptions(parent=self)
        # Both are used only by the first install: kept with protectData.
        first_init = pulumi.ResourceOptions(parent=self, **ctx.keep_data)
        self.admin_password = random.RandomPassword("freeipa-admin-password", length=32, special=False, opts=first_init)
        self.dm_password = random.RandomPassword("freeipa-dm-password", length=32, special=False, opts=first_init)
        bind_password = random.RandomPassword("freeipa-keycloak-bind-password", length=32, special=False, opts=ro)
        realm = settings.domain.upper()
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(LDAP_PORT)
        options = pulumi.Output.all(self.admin_password.result, self.dm_password.result).apply(
            lambda p: "\n".join(
                [
                    "--unattended",
                    f"--realm={realm}",
                    f"--domain={settings.domain}",
                    f"--admin-password={p[0]}",
                    f"--ds-password={p[1]}",
                    "--no-ntp",
                    "--no-sshd",
                    "--no-ssh",
                    "--no-ui-redirect",
                ]
            )
            + "\n"
        )
        self.container = ctx.container(
            self,
            # The upstream image reads install options from this file in its data volume,
            # so the passwords never appear in the container's environment or command line.
            endpoints=[self.endpoint],
            uploads=[docker.ContainerUploadArgs(file="/data/ipa-server-install-options", content=pulumi.Output.secret(options))],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=data.name, container_path="/data"),
                docker.ContainerVolumeArgs(host_path="/sys/fs/cgroup", container_path="/sys/fs/cgroup"),
            ],
            # An install takes 10-20 minutes on first start (itstack-spec.md §1.1).
            healthcheck=health(
                [
                    "systemctl is-active --quiet ipa",
                    f"ldapsearch -x -H ldap://127.0.0.1 -b '{base_dn}' -s base >/dev/null",
                ],
                interval="30s",
                retries=10,
                start_period="1800s",
            ),
            wait_timeout=2400,
            extra={
                "privileged": True,
                "cgroupns_mode": "host",
                "hostname": f"{ctx.fqdn}",
                "sysctls": {"net.ipv6.conf.all.disable_ipv6": "0"},
                "security_opts": ["seccomp=unconfined"],
                "read_only": False,
            },
        )
        bind_dn = f"uid=keycloak,cn=sysaccounts,cn=etc,{base_dn}"
        # One-shot job: create (or reset) Keycloak's system bind account with ldapadd/ldapmodify.
        # attach=True waits for it to finish; must_run=False since it exits.
        ldif_script = (
            "set -e; printf 'dn: %s\\nchangetype: add\\nobjectclass: account\\nobjectclass: simplesecurityobject\\n"
            "uid: keycloak\\nuserPassword: %s\\npasswordExpirationTime: 20380119031407Z\\nnsIdleTimeout: 0\\n' "
            '"$BIND_DN" "$BIND_PASSWORD" | ldapmodify -c -x -H "ldap://$LDAP_HOST" -D "cn=Directory Manager" -w "$DM_PASSWORD" || true; '
            "printf 'dn: %s\\nchangetype: modify\\nreplace: userPassword\\nuserPassword: %s\\n' "
            '"$BIND_DN" "$BIND_PASSWORD" | ldapmodify -x -H "ldap://$LDAP_HOST" -D "cn=Directory Manager" -w "$DM_PASSWORD"'
        )
        image = ctx.image(self)
        self.bind_job = docker.Container(
            "freeipa-bind-account",
            name=f"{ctx.container_name()}-bind-account",
            image=image.image_id,
            entrypoints=["/bin/sh", "-c"],
            command=[ldif_script],
            envs=env_list(
                {
                    "BIND_DN": bind_dn,
                    "BIND_PASSWORD": bind_password.result,
                    "DM_PASSWORD": self.dm_password.result,
                    "LDAP_HOST": self.container.name,
                }
            ),
            attach=True,
            must_run=False,
            logs=True,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=ctx.host.network(ctx.tier).name)],
            labels=[docker.ContainerLabelArgs(label="org.itstack.service", value="freeipa")],
            opts=ctx.opts(self, depends_on=[self.container], additional_secret_outputs=["envs"]),
        )
        self.directory = Directory(
            ldap_url=f"ldap://{self.endpoint.container_name}:{LDAP_PORT}",
            base_dn=base_dn,
            users_dn=users_dn,
            groups_dn=groups_dn,
            bind_dn=bind_dn,
            bind_password=pulumi.Output.secret(bind_password.result),
            network=ctx.host.network(ctx.tier),
            ready=self.bind_job,
        )
        self.data_volume = data
        self.register_outputs({"ldap_url": self.directory.ldap_url, "mode": "container"})

    def directory_for(self, consumer: HostRuntime) -> Directory:
        """The directory as a consumer on `consumer` reaches it (by address across hosts)."""
        if self.container is None:
            return self.directory
        host, port = self.endpoint.address_for(consumer)
        return replace(self.directory, ldap_url=f"ldap://{host}:{port}", network=self.endpoint.network_for(consumer))
