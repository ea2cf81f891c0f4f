"""Traefik v3: the edge. HTTPS for every published route, HTTP redirected, dashboard behind auth.

Routes come from the services (each component publishes a `Route`); Traefik reads them from a
file-provider config this component renders, because in prod the backends live on other Docker
hosts where Traefik's Docker provider cannot see their labels.
"""
from __future__ import annotations

import json
from typing import Sequence

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumi_tls as tls

from components.base import Route, ServiceContext, health

HTTP_PORT = 80
HTTPS_PORT = 443
PING_PORT = 8082
CONFIG_DIR = "/etc/traefik"
CERT_FILE = f"{CONFIG_DIR}/certs/site.crt"
KEY_FILE = f"{CONFIG_DIR}/certs/site.key"


def static_config(settings, acme_storage: str = "/data/acme.json") -> dict:
    """traefik.yml: entry points, providers, ACME resolver in acme mode."""
    # Redirect to the HTTPS port browsers reach: with a portOffset (dev) that is the published port,
    # not the entry point's own 443 (seen with the built Traefik: 301 to :443, which dev does not serve).
    offset = settings.host_of("traefik").port_offset
    https_target = f":{HTTPS_PORT + offset}" if offset else "websecure"
    cfg: dict = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "web": {
                "address": f":{HTTP_PORT}",
                "http": {"redirections": {"entryPoint": {"to": https_target, "scheme": "https", "permanent": True}}},
            },
            "websecure": {"address": f":{HTTPS_PORT}"},
            "ping": {"address": f":{PING_PORT}"},
        },
        "ping": {"entryPoint": "ping"},
        # The dashboard is served only through the authenticated router in the dynamic config.
        "api": {"dashboard": True, "insecure": False},
        "providers": {"file": {"filename": f"{CONFIG_DIR}/dynamic.yml", "watch": False}},
        "log": {"level": "INFO"},
        "accessLog": {"format": "json"},
    }
    if settings.tls.mode == "acme":
        cfg["certificatesResolvers"] = {
            "acme": {
                "acme": {
                    "email": settings.tls.acme_email,
                    "storage": acme_storage,
                    "caServer": settings.tls.acme_ca_server,
                    "httpChallenge": {"entryPoint": "web"},
                }
            }
        }
    return cfg


def dynamic_config(settings, routes: Sequence[tuple[Route, str]], dashboard_users: Sequence[str]) -> dict:
    """dynamic.yml: one router and service per route, TLS defaults, the dashboard router.
    `routes` pairs each Route with the backend URL as Traefik's host reaches it."""
    tls_router = {"certResolver": "acme"} if settings.tls.mode == "acme" else {}
    routers: dict = {}
    services: dict = {}
    for route, backend in routes:
        routers[route.service] = {
            "rule": f"Host(`{route.fqdn}`)",
            "entryPoints": ["websecure"],
            "service": route.service,
            "middlewares": ["secure-headers"],
            "tls": tls_router,
        }
        services[route.service] = {"loadBalancer": {"servers": [{"url": backend}], "passHostHeader": True}}
    routers["dashboard"] = {
        "rule": f"Host(`proxy.{settings.domain}`)",
        "entryPoints": ["websecure"],
        "service": "api@internal",
        "middlewares": ["dashboard-auth", "secure-headers"],
        "tls": tls_router,
    }
    cfg: dict = {
        "http": {
            "routers": routers,
            "services": services,
            "middlewares": {
                "dashboard-auth": {"basicAuth": {"users": list(dashboard_users)}},
                "secure-headers": {
                    "headers": {
                        "stsSeconds": 31536000,
                        "stsIncludeSubdomains": True,
                        "contentTypeNosniff": True,
                        "frameDeny": False,
                        "customFrameOptionsValue": "SAMEORIGIN",
                    }
                },
            },
        },
        "tls": {"options": {"default": {"minVersion": "VersionTLS12", "sniStrict": False}}},
    }
    if settings.tls.mode == "self-signed":
        cfg["tls"]["certificates"] = [{"certFile": CERT_FILE, "keyFile": KEY_FILE}]
        cfg["tls"]["stores"] = {"default": {"defaultCertificate": {"certFile": CERT_FILE, "keyFile": KEY_FILE}}}
    return cfg


class Traefik(pulumi.ComponentResource):
    """The edge proxy for `routes`. Exports the dashboard password (secret) and, in self-signed
    mode, the CA certificate that clients can trust."""

    def __init__(self, ctx: ServiceContext, routes: Sequence[Route], gelf_address: str | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        """`gelf_address`: ship Traefik's JSON access log to Graylog with Docker's gelf driver."""
        super().__init__("itstack:infrastructure:Traefik", "traefik", None, opts)
        settings = ctx.settings
        ro = pulumi.ResourceOptions(parent=self)
        self.routes = list(routes)
        self.dashboard_password = random.RandomPassword("traefik-dashboard-password", length=32, special=False, opts=ro)
        uploads: list[docker.ContainerUploadArgs] = []
        self.ca_cert_pem: pulumi.Output[str] | None = None
        if settings.tls.mode == "self-signed":
            ca_key = tls.PrivateKey("traefik-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=ro)
            ca = tls.SelfSignedCert(
                "traefik-ca",
                private_key_pem=ca_key.private_key_pem,
                is_ca_certificate=True,
                validity_period_hours=24 * 365 * 5,
                allowed_uses=["cert_signing", "crl_signing"],
                subject=tls.SelfSignedCertSubjectArgs(common_name=f"IT-Stack {settings.stack} CA", organization="itstack"),
                opts=ro,
            )
            site_key = tls.PrivateKey("traefik-site-key", algorithm="ECDSA", ecdsa_curve="P256", opts=ro)
            csr = tls.CertRequest(
                "traefik-site-csr",
                private_key_pem=site_key.private_key_pem,
                dns_names=[settings.domain, f"*.{settings.domain}"],
                subject=tls.CertRequestSubjectArgs(common_name=f"*.{settings.domain}"),
                opts=ro,
            )
            site = tls.LocallySignedCert(
                "traefik-site-cert",
                cert_request_pem=csr.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                validity_period_hours=24 * 397,
                allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
                opts=ro,
            )
            self.ca_cert_pem = ca.cert_pem
            uploads += [
                docker.ContainerUploadArgs(file=CERT_FILE, content=site.cert_pem),
                docker.ContainerUploadArgs(file=KEY_FILE, content=pulumi.Output.secret(site_key.private_key_pem)),
            ]
        # Traefik joins the tier network of every backend on its own host.
        backend_nets = [r.endpoint.network_for(ctx.host) for r in self.routes]
        resolved = []
        for r in self.routes:
            host, port = r.endpoint.address_for(ctx.host)
            resolved.append((r, f"{r.scheme}://{host}:{port}"))
        dynamic = self.dashboard_password.bcrypt_hash.apply(
            lambda h: json.dumps(dynamic_config(settings, resolved, [f"admin:{h}"]), indent=2, sort_keys=True)
        )
        uploads += [
            docker.ContainerUploadArgs(file=f"{CONFIG_DIR}/traefik.yml", content=json.dumps(static_config(settings), indent=2)),
            docker.ContainerUploadArgs(file=f"{CONFIG_DIR}/dynamic.yml", content=pulumi.Output.secret(dynamic)),
        ]
        volumes = []
        if settings.tls.mode == "acme":
            acme = ctx.volume(self, "acme")
            volumes.append(docker.ContainerVolumeArgs(volume_name=acme.name, container_path="/data"))
        http, https = ctx.endpoint(HTTP_PORT, published=True), ctx.endpoint(HTTPS_PORT, published=True)
        self.http_port, self.https_port = http.published, https.published
        self.container = ctx.container(
            self,
            command=["traefik", f"--configFile={CONFIG_DIR}/traefik.yml"],
            endpoints=[http, https],
            networks=backend_nets,
            uploads=uploads,
            volumes=volumes,
            healthcheck=health(["traefik healthcheck --ping --configFile=/etc/traefik/traefik.yml"]),
            extra={"log_driver": "gelf", "log_opts": {"gelf-address": gelf_address, "tag": "traefik"}}
            if gelf_address else None,
        )
        self.register_outputs({"routes": [r.fqdn for r in self.routes], "https_port": self.https_port})
