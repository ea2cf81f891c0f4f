"""Facts read once from Keycloak and kept in the state: the id of a built-in client role
(realm-management's realm-admin) and the realm's active RS256 signing certificate.

The keycloak provider offers these only as invokes, which run on every preview and every `up`:
a preview then needs a live Keycloak reachable from wherever it runs, and an `up` cannot start
while Keycloak is recovering (seen on a real engine: after PostgreSQL crashed, every `up` failed
with "500 Internal Server Error" from the token endpoint until Keycloak was ready again). As a
resource, the fact is looked up when it is created and again only on refresh.

A small client of Keycloak's documented admin REST API (/admin/realms/...), standard library only.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

KINDS = ("client-role-id", "realm-certificate")


class KeycloakLookupError(Exception):
    pass


def _call(method: str, url: str, token: str | None = None, form: dict | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        # The URL and status only: the token request's body holds the admin password.
        raise KeycloakLookupError(f"Keycloak answered {e.code} to {method} {url.split('?')[0]}") from None
    except OSError as e:
        raise KeycloakLookupError(f"Keycloak at {url.split('/realms')[0].split('/admin')[0]} is not reachable: {e}") from None


def lookup(props: dict[str, Any]) -> str:
    base = props["admin_url"].rstrip("/")
    token = _call("POST", f"{base}/realms/master/protocol/openid-connect/token",
                  form={"grant_type": "password", "client_id": "admin-cli", "username": props["admin_user"],
                        "password": props["admin_password"]})["access_token"]
    realm = f"{base}/admin/realms/{urllib.parse.quote(props['realm'])}"
    if props["kind"] == "client-role-id":
        clients = _call("GET", f"{realm}/clients?clientId={urllib.parse.quote(props['client_id'])}", token)
        if not clients:
            raise KeycloakLookupError(f"realm {props['realm']} has no client {props['client_id']}")
        role = _call("GET", f"{realm}/clients/{clients[0]['id']}/roles/{urllib.parse.quote(props['role'])}", token)
        return role["id"]
    keys = _call("GET", f"{realm}/keys", token)
    for key in keys.get("keys", []):
        if key.get("algorithm") == "RS256" and key.get("status", "ACTIVE") == "ACTIVE" and key.get("certificate"):
            return key["certificate"]
    raise KeycloakLookupError(f"realm {props['realm']} has no active RS256 key with a certificate")


class KeycloakLookupProvider(ResourceProvider):
    def create(self, props):
        return CreateResult(f"{props['realm']}/{props['kind']}", {**props, "value": lookup(props)})

    def read(self, id_, props):
        return ReadResult(id_, {**props, "value": lookup(props)})

    def diff(self, _id, olds, news):
        replaces = [k for k in ("realm", "kind", "client_id", "role") if olds.get(k) != news.get(k)]
        # A new address or admin password: look again with them (update), so state never keeps a
        # connection that no longer works.
        changed = [k for k in ("admin_url", "admin_user", "admin_password") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id, _olds, news):
        return UpdateResult({**news, "value": lookup(news)})

    def delete(self, _id, _props):
        """Nothing to remove: the looked-up object belongs to Keycloak."""


class KeycloakLookup(Resource):
    value: pulumi.Output[str]

    def __init__(self, name: str, *, kind: str, admin_url: pulumi.Input[str], admin_user: str,
                 admin_password: pulumi.Input[str], realm: pulumi.Input[str], client_id: str | None = None,
                 role: str | None = None, opts: pulumi.ResourceOptions | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown lookup {kind!r}; known: {', '.join(KINDS)}")
        super().__init__(
            KeycloakLookupProvider(), name,
            {"kind": kind, "admin_url": admin_url, "admin_user": admin_user,
             "admin_password": pulumi.Output.secret(admin_password), "realm": realm, "client_id": client_id,
             "role": role, "value": None},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["admin_password"])),
        )
