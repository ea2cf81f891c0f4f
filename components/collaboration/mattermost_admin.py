"""Mattermost's first account, created through its REST API as a Pulumi dynamic resource.

Mattermost makes the first account of a new server its system administrator, whoever creates
it. Creating that account at deploy time, with a random password, means no stranger (and no
first SSO login) can claim the server. A small typed client does create/read/diff/update/delete
over the v4 API: POST /api/v4/users (first account, no token needed), POST /api/v4/users/login,
PUT /api/v4/users/{id}/password, DELETE /api/v4/users/{id} (deactivates).

Where and how a resource connects (url, admin user and password) is part of `diff`, so state
always holds the values that reach the server now. `read` and `delete` raise when the server
cannot be reached or refuses the login: a refresh must not call a resource fine, nor a destroy
call it gone, without having asked the server.
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


class MattermostAuthError(MattermostError):
    """The server refused the login (wrong user or password, or the account is deactivated)."""


def _unreachable(url: str, err: Exception, what: str) -> MattermostError:
    return MattermostError(f"{what}: cannot reach Mattermost at {url}: {err}; if the server and its data are "
                           "gone for good, drop the resource with `pulumi state delete <urn>`")


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
        """A session token and the user, or None when the server refuses these credentials.
        Any other failure (a server error) raises: it says nothing about the credentials."""
        status, headers, body = self._call("POST", "/api/v4/users/login", {"login_id": username, "password": password})
        if status in (400, 401, 403):
            return None
        if status != 200:
            raise MattermostError(f"logging in as {username}: HTTP {status}: {body}")
        token = headers.get("Token") or headers.get("token")
        return token, body

    def session(self, username: str, password: str, what: str) -> tuple[str, dict]:
        """Log in or raise: for calls that must not go on without the server's answer."""
        try:
            session = self.login(username, password)
        except (urllib.error.URLError, OSError) as e:
            raise _unreachable(self.base_url, e, what) from None
        if session is None:
            raise MattermostAuthError(f"{what}: Mattermost at {self.base_url} refused the login of {username} "
                                      "(password changed outside Pulumi, or the account deactivated?)")
        return session

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
        # The account is there when its password still logs in; a refused login raises
        # (a deactivated account is refused too), so refresh never calls it fine unasked.
        MattermostClient(props["url"]).session(props["username"], props["password"], f"reading {props['username']}")
        return ReadResult(id_, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("username", "email") if olds.get(k) != news.get(k)]
        # `url` is where the provider connects: a new one is an update that records it.
        changes = bool(replaces) or any(olds.get(k) != news.get(k) for k in ("password", "url"))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = MattermostClient(news["url"])
        token, _ = client.session(olds["username"], olds["password"], f"updating {olds['username']}")
        if olds.get("password") != news["password"]:
            client.set_password(id_, token, olds["password"], news["password"])
        return UpdateResult({**news, "user_id": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = MattermostClient(props["url"])
        token, _ = client.session(props["username"], props["password"], f"deleting {props['username']}")
        client.deactivate(id_, token)


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


def _session(props: dict[str, Any], what: str = "signing in") -> tuple[MattermostClient, str]:
    client = MattermostClient(props["url"])
    token, _ = client.session(props["admin_user"], props["admin_password"], what)
    return client, token


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
        client, token = _session(props, f"reading webhook {props['name']}")
        status, _, body = client._call("GET", f"/api/v4/hooks/incoming/{id_}", token=token)
        if status == 404:
            return ReadResult(None, props)  # deleted behind our back: `up` recreates it
        if status != 200:
            raise MattermostError(f"reading webhook {props['name']}: HTTP {status}: {body}")
        return ReadResult(id_, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "channel", "public_url") if olds.get(k) != news.get(k)]
        # Where and as whom the provider connects: an update that records the new values.
        connection = any(olds.get(k) != news.get(k) for k in ("url", "admin_user", "admin_password"))
        return DiffResult(changes=bool(replaces) or connection, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _session(news, f"updating webhook {news['name']}")  # the new connection works before state records it
        return UpdateResult({**news, "hook_id": olds.get("hook_id"), "hook_url": olds.get("hook_url")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client, token = _session(props, f"deleting webhook {props['name']}")
        status, _, body = client._call("DELETE", f"/api/v4/hooks/incoming/{id_}", token=token)
        if status not in (200, 404):
            raise MattermostError(f"deleting webhook {props['name']}: HTTP {status}: {body}")


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
