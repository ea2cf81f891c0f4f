"""Elasticsearch 8: full-text search for Zammad (Graylog gets its own OpenSearch)."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.base import HostRuntime, ServiceContext, env_list, health

PORT = 9200


@dataclass
class SearchCredentials:
    url: str
    user: str
    password: pulumi.Output[str]
    network: docker.Network | None
    ready: pulumi.Resource


class Elasticsearch(pulumi.ComponentResource):
    """Single-node Elasticsearch with security on (user `elastic`, random password), HTTP inside
    the data network. Needs vm.max_map_count >= 262144 on the host (itstack-spec.md §1.1)."""

    def __init__(self, ctx: ServiceContext, opts: pulumi.ResourceOptions | None = None):
        super().__init__("itstack:data:Elasticsearch", "elasticsearch", None, opts)
        self.ctx = ctx
        self.password = random.RandomPassword(
            "elasticsearch-elastic-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        heap = max(256, ctx.settings.sizes["elasticsearch"].memory_mb // 2)
        data = ctx.volume(self, "data")
        self.endpoint = ctx.endpoint(PORT)
        self.container = ctx.container(
            self,
            envs=env_list(
                {
                    "discovery.type": "single-node",
                    "cluster.name": f"itstack-{ctx.settings.stack}",
                    "xpack.security.enabled": "true",
                    # TLS ends at the data network's edge; nothing outside reaches this port.
                    "xpack.security.http.ssl.enabled": "false",
                    "ELASTIC_PASSWORD": self.password.result,
                    "ES_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
                }
            ),
            endpoints=[self.endpoint],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/usr/share/elasticsearch/data")],
            healthcheck=health(
                ['curl -fsS -u "elastic:$ELASTIC_PASSWORD" "http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=4s" | grep -q cluster_name'],
                start_period="60s",
            ),
            wait_timeout=600,
        )
        self.data_volume = data
        self.register_outputs({"endpoint": f"{self.endpoint.container_name}:{PORT}"})

    def credentials(self, for_host: HostRuntime) -> SearchCredentials:
        host, port = self.endpoint.address_for(for_host)
        return SearchCredentials(
            url=f"http://{host}:{port}",
            user="elastic",
            password=pulumi.Output.secret(self.password.result),
            network=self.endpoint.network_for(for_host),
            ready=self.container,
        )
