"""Graylog's REST API as Pulumi dynamic resources: inputs and the LDAP authentication backend.

A small typed client (`GraylogClient`, stdlib only, HTTP basic auth as the root user, the
`X-Requested-By` header Graylog requires on writes) and two resources:

- `GraylogInput`: a global input (GELF, syslog) — POST/PUT/DELETE /api/system/inputs.
- `GraylogLdapBackend`: an LDAP authentication service backend against FreeIPA, activated as the
  global backend — /api/system/authentication/services/backends and …/configuration.
  Graylog Open ships the LDAP/AD backends; OIDC, Okta and LDAP group→role sync are Enterprise.

Sources read: graylog2-server AuthServiceBackendsResource (routes), LDAPAuthServiceBackendConfig
(field names, `system_user_password` is an EncryptedValue set with {"set_value": …}),
GlobalAuthServiceConfigResource (`active_backend`), and the inputs REST API (`type`, `global`,
`configuration`).

`api_url` and `root_password` (where and how the provider connects) are part of both diffs, so
state holds the values that reach Graylog now. Only a 404 reads as "gone"; a refused login
(401/403) raises `GraylogAuthError` in read and delete as everywhere else.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

ROOT_USER = "admin"


class GraylogApiError(RuntimeError):
    pass


class GraylogAuthError(GraylogApiError):
    """Graylog refused the root user's credentials."""


class GraylogClient:
    def __init__(self, url: str, password: str, user: str = ROOT_USER, timeout: float = 30):
        self.base = url.rstrip("/") + "/api"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": self.auth,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-Requested-By": "itstack-pulumi",
        })
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            if e.code in (401, 403):
                raise GraylogAuthError(f"{method} {path}: Graylog at {self.base} refused the login (HTTP {e.code}); "
                                       "the root password in state no longer works") from None
            raise GraylogApiError(f"{method} {path}: HTTP {e.code} {e.read().decode(errors='replace')[:500]}") from None
        return json.loads(text) if text else {}

    def wait_alive(self, attempts: int = 60, delay: float = 5) -> None:
        for i in range(attempts):
            try:
                req = urllib.request.Request(self.base + "/system/lbstatus")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    if b"ALIVE" in resp.read():
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if i < attempts - 1:
                time.sleep(delay)
        raise GraylogApiError("Graylog did not report ALIVE")

    def role_id(self, name: str) -> str:
        roles = self.request("GET", "/authz/roles?per_page=200") or {}
        for role in roles.get("roles", []):
            if role.get("name") == name:
                return role["id"]
        raise GraylogApiError(f"no Graylog role named {name!r}")


def _client(props: Mapping[str, Any]) -> GraylogClient:
    client = GraylogClient(props["api_url"], props["root_password"])
    client.wait_alive()
    return client


def _secret_opts(opts, *names):
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))


# ---------------------------------------------------------------------------------------------
class GraylogInputProvider(ResourceProvider):
    def _body(self, props):
        return {"title": props["title"], "type": props["input_type"], "global": True,
                "configuration": dict(props["configuration"])}

    def create(self, props):
        client = _client(props)
        # Adopt an input of the same title (a run interrupted after the POST).
        existing = (client.request("GET", "/system/inputs") or {}).get("inputs", [])
        for inp in existing:
            if inp.get("title") == props["title"]:
                client.request("PUT", f"/system/inputs/{inp['id']}", self._body(props))
                return CreateResult(inp["id"], dict(props))
        created = client.request("POST", "/system/inputs", self._body(props))
        return CreateResult(created["id"], dict(props))

    def read(self, id_, props):
        found = _client(props).request("GET", f"/system/inputs/{id_}")
        return ReadResult(id_ if found else None, props)

    def diff(self, _id, olds, news):
        replaces = ["input_type"] if olds.get("input_type") != news.get("input_type") else []
        changes = any(olds.get(k) != news.get(k) for k in ("title", "input_type", "configuration",
                                                           "api_url", "root_password"))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_, olds, news):
        _client(news).request("PUT", f"/system/inputs/{id_}", self._body(news))
        return UpdateResult(dict(news))

    def delete(self, id_, props):
        _client(props).request("DELETE", f"/system/inputs/{id_}")


class GraylogInput(Resource):
    def __init__(self, name: str, *, api_url: pulumi.Input[str], root_password: pulumi.Input[str],
                 title: str, input_type: str, configuration: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(GraylogInputProvider(), name, {
            "api_url": api_url,
            "root_password": pulumi.Output.secret(root_password),
            "title": title,
            "input_type": input_type,
            "configuration": dict(configuration),
        }, _secret_opts(opts, "root_password"))


# ---------------------------------------------------------------------------------------------
class GraylogLdapBackendProvider(ResourceProvider):
    def _body(self, client: GraylogClient, props):
        return {
            "title": props["title"],
            "description": "FreeIPA users (managed by Pulumi)",
            "default_roles": [client.role_id(r) for r in props["default_roles"]],
            "config": {
                "type": "ldap",
                "servers": [{"host": props["ldap_host"], "port": int(props["ldap_port"])}],
                "transport_security": props["transport_security"],
                "verify_certificates": bool(props["verify_certificates"]),
                "system_user_dn": props["bind_dn"],
                "system_user_password": {"set_value": props["bind_password"]},
                "user_search_base": props["users_dn"],
                "user_search_pattern": "(&(objectClass=person)(uid={0}))",
                "user_unique_id_attribute": "ipaUniqueID",
                "user_name_attribute": "uid",
                "user_full_name_attribute": "cn",
            },
        }

    def _activate(self, client: GraylogClient, backend_id: str | None) -> None:
        client.request("POST", "/system/authentication/services/configuration", {"active_backend": backend_id})

    def create(self, props):
        client = _client(props)
        created = client.request("POST", "/system/authentication/services/backends", self._body(client, props))
        backend_id = created["backend"]["id"]
        self._activate(client, backend_id)
        return CreateResult(backend_id, dict(props))

    def read(self, id_, props):
        found = _client(props).request("GET", f"/system/authentication/services/backends/{id_}")
        return ReadResult(id_ if found else None, props)

    def diff(self, _id, olds, news):
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in news))

    def update(self, id_, olds, news):
        client = _client(news)
        client.request("PUT", f"/system/authentication/services/backends/{id_}", self._body(client, news))
        self._activate(client, id_)
        return UpdateResult(dict(news))

    def delete(self, id_, props):
        client = _client(props)
        self._activate(client, None)  # a backend in use cannot be deleted
        client.request("DELETE", f"/system/authentication/services/backends/{id_}")


class GraylogLdapBackend(Resource):
    def __init__(self, name: str, *, api_url: pulumi.Input[str], root_password: pulumi.Input[str],
                 title: str, ldap_host: str, ldap_port: int, bind_dn: str, bind_password: pulumi.Input[str],
                 users_dn: str, default_roles: list[str], transport_security: str = "none",
                 verify_certificates: bool = False, opts: pulumi.ResourceOptions | None = None):
        super().__init__(GraylogLdapBackendProvider(), name, {
            "api_url": api_url,
            "root_password": pulumi.Output.secret(root_password),
            "title": title,
            "ldap_host": ldap_host,
            "ldap_port": ldap_port,
            "bind_dn": bind_dn,
            "bind_password": pulumi.Output.secret(bind_password),
            "users_dn": users_dn,
            "default_roles": list(default_roles),
            "transport_security": transport_security,
            "verify_certificates": verify_certificates,
        }, _secret_opts(opts, "root_password", "bind_password"))
