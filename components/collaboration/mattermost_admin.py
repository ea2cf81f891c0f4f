"""Mattermost's first account, created through its REST API as a Pulumi dynamic resource.

Mattermost makes the first account of a new server its system administrator, whoever creates
it. Creating that account at deploy time, with a random password, means no stranger (and no
first SSO login) can claim the server. A small typed client does create/read/diff/update/delete
over the v4 API: POST /api/v4/users (first account, no token needed), POST /api/v4/users/login,
PUT /api/v4/users/{id}/password, DELETE /api/v4/users/{id} (deactivates).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class MattermostError(RuntimeError):
    pass


@dataclass
class MattermostClient:
    """The handful of v4 calls the bootstrap needs."""

    base_url: str
    timeout: int = 30

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-Requested-With", "XMLHttpRequest")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                detail = json.loads(raw).get("message", raw.decode(errors="replace"))
            except ValueError:
                detail = raw.decode(errors="replace")
            return e.code, dict(e.headers), {"message": detail}

    def create_first_user(self, username: str, email: str, password: str) -> dict:
        status, _, body = self._call("POST", "/api/v4/users", {"username": username, "email": email, "password": password})
        if status != 201:
            raise MattermostError(f"creating {username}: HTTP {status}: {body}")
        return body

    def login(self, username: str, password: str) -> tuple[str, dict] | None:
        status, headers, body = self._call("POST", "/api/v4/users/login", {"login_id": username, "password": password})
        if status != 200:
            return None
        token = headers.get("Token") or headers.get("token")
        return token, body

    def set_password(self, user_id: str, token: str, old: str, new: str) -> None:
        status, _, body = self._call(
            "PUT", f"/api/v4/users/{user_id}/password", {"current_password": old, "new_password": new}, token
        )
        if status != 200:
            raise MattermostError(f"changing the password of {user_id}: HTTP {status}: {body}")

    def deactivate(self, user_id: str, token: str) -> None:
        status, _, body = self._call("DELETE", f"/api/v4/users/{user_id}", token=token)
        if status not in (200, 404):
            raise MattermostError(f"deactivating {user_id}: HTTP {status}: {body}")


class MattermostAdminProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        client = MattermostClient(props["url"])
        existing = client.login(props["username"], props["password"])
        if existing is not None:  # adopted (a previous run created it)
            user = existing[1]
        else:
            user = client.create_first_user(props["username"], props["email"], props["password"])
        if "system_admin" not in (user.get("roles") or ""):
            raise MattermostError(
                f"{props['username']} exists but is not a system administrator: the server already had "
                "accounts when the stack first deployed it; promote it with `mmctl roles system-admin`"
            )
        return CreateResult(user["id"], {**props, "user_id": user["id"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            ok = MattermostClient(props["url"]).login(props["username"], props["password"]) is not None
        except (urllib.error.URLError, OSError):
            return ReadResult(id_, props)  # unreachable: keep what we know
        return ReadResult(id_ if ok else None, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("username", "email") if olds.get(k) != news.get(k)]
        changes = bool(replaces) or olds.get("password") != news.get("password")
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = MattermostClient(news["url"])
        session = client.login(olds["username"], olds["password"])
        if session is None:
            raise MattermostError(f"cannot log in as {olds['username']} to change its password")
        client.set_password(id_, session[0], olds["password"], news["password"])
        return UpdateResult({**news, "user_id": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            client = MattermostClient(props["url"])
            session = client.login(props["username"], props["password"])
        except (urllib.error.URLError, OSError):
            return  # the server is gone with its data: nothing to undo
        if session is not None:
            client.deactivate(id_, session[0])


class MattermostAdmin(Resource):
    """The first (system administrator) account of a Mattermost server at `url`."""

    user_id: pulumi.Output[str]

    def __init__(self, name: str, *, url: pulumi.Input[str], username: str, email: str,
                 password: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            MattermostAdminProvider(),
            name,
            {"url": url, "username": username, "email": email, "password": pulumi.Output.secret(password),
             "user_id": None},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])),
        )


# --- Incoming webhooks (Zabbix -> Mattermost, Taiga -> Mattermost) --------------------------------
TEAM_NAME = "itstack"
TEAM_DISPLAY_NAME = "IT-Stack"


def _session(props: dict[str, Any]) -> tuple[MattermostClient, str]:
    client = MattermostClient(props["url"])
    session = client.login(props["admin_user"], props["admin_password"])
    if session is None:
        raise MattermostError(f"cannot log in to {props['url']} as {props['admin_user']}")
    return client, session[0]


def _ensure_team(client: MattermostClient, token: str) -> str:
    status, _, body = client._call("GET", f"/api/v4/teams/name/{TEAM_NAME}", token=token)
    if status == 200:
        return body["id"]
    status, _, body = client._call("POST", "/api/v4/teams",
                                   {"name": TEAM_NAME, "display_name": TEAM_DISPLAY_NAME, "type": "I"}, token)
    if status != 201:
        raise MattermostError(f"creating team {TEAM_NAME}: HTTP {status}: {body}")
    return body["id"]


def _ensure_channel(client: MattermostClient, token: str, team_id: str, channel: str) -> str:
    status, _, body = client._call("GET", f"/api/v4/teams/{team_id}/channels/name/{channel}", token=token)
    if status == 200:
        return body["id"]
    status, _, body = client._call("POST", "/api/v4/channels",
                                   {"team_id": team_id, "name": channel, "display_name": channel, "type": "O"}, token)
    if status != 201:
        raise MattermostError(f"creating channel {channel}: HTTP {status}: {body}")
    return body["id"]


class MattermostWebhookProvider(ResourceProvider):
    """An incoming webhook posting to channel `channel` of team `itstack` (both created if absent)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        client, token = _session(props)
        team_id = _ensure_team(client, token)
        channel_id = _ensure_channel(client, token, team_id, props["channel"])
        status, _, body = client._call("POST", "/api/v4/hooks/incoming", {
            "channel_id": channel_id, "display_name": props["name"],
            "description": f"{props['name']} notifications (itstack)", "channel_locked": True,
        }, token)
        if status != 201:
            raise MattermostError(f"creating incoming webhook {props['name']}: HTTP {status}: {body}")
        return CreateResult(body["id"], {**props, "hook_id": body["id"],
                                         "hook_url": f"{props['public_url']}/hooks/{body['id']}"})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            client, token = _session(props)
        except (MattermostError, urllib.error.URLError, OSError):
            return ReadResult(id_, props)
        status, _, _ = client._call("GET", f"/api/v4/hooks/incoming/{id_}", token=token)
        return ReadResult(id_ if status == 200 else None, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "channel", "public_url") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "hook_id": olds.get("hook_id"), "hook_url": olds.get("hook_url")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            client, token = _session(props)
        except (MattermostError, urllib.error.URLError, OSError):
            return
        client._call("DELETE", f"/api/v4/hooks/incoming/{id_}", token=token)


class MattermostWebhook(Resource):
    hook_url: pulumi.Output[str]

    def __init__(self, name: str, *, url: pulumi.Input[str], public_url: str, hook_name: str, channel: str,
                 admin_user: str, admin_password: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            MattermostWebhookProvider(),
            name,
            {"url": url, "public_url": public_url, "name": hook_name, "channel": channel,
             "admin_user": admin_user, "admin_password": pulumi.Output.secret(admin_password),
             "hook_id": None, "hook_url": None},
            # Whoever holds the hook URL can post: it is a credential.
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                additional_secret_outputs=["admin_password", "hook_url", "hook_id"])),
        )
