"""Deliberately bad: every resource breaks one rule of policy/ in a way a preview can see (run as a
stack named prod). The Keycloak wildcard-redirect rule needs the keycloak plugin, which cannot be
built here: tests/test_policy.py covers it under mocks. Nothing here is ever deployed."""
import json

import pulumi
import pulumi_docker as docker

HEALTHY = dict(
    healthcheck=docker.ContainerHealthcheckArgs(tests=["CMD", "true"]),
    memory=64, memory_swap=64, restart="unless-stopped",
)
image = docker.RemoteImage("unpinned-image", name="postgres:16", keep_locally=True)  # prod-images-pinned

password = pulumi.Config().require_secret("dbPassword")
docker.Container(  # no-plain-secret: a secret taken out of its wrapper into an env
    "plain-secret", name="bad-plain-secret", image=image.image_id,
    envs=[pulumi.Output.unsecret(password).apply(lambda p: f"DB_PASSWORD={p}")], **HEALTHY)

docker.Container(  # the control: the same secret kept a secret passes (the pack sees secretness)
    "secret-env-ok", name="ok-secret-env", image=image.image_id,
    envs=[password.apply(lambda p: f"DB_PASSWORD={p}")], **HEALTHY)

docker.Container("no-limits", name="bad-no-limits", image=image.image_id)  # long-running-containers

docker.Container("privileged", name="bad-privileged", image=image.image_id,  # privileged-only-freeipa
                 privileged=True, **HEALTHY)

dynamic = {"http": {"routers": {"plain": {"rule": "Host(`app.example.test`)", "entryPoints": ["web"],
                                          "service": "app"}},
                    "services": {"app": {"loadBalancer": {"servers": [{"url": "http://app:80"}]}}}}}
docker.Container("plain-route", name="bad-plain-route", image=image.image_id,  # tls-on-every-route
                 uploads=[docker.ContainerUploadArgs(file="/etc/traefik/dynamic.yml", content=json.dumps(dynamic))],
                 **HEALTHY)

docker.Volume("unprotected-data", name="bad-unprotected-data")  # prod-data-protected
