"""Zabbix 7.0 configured through its JSON-RPC API, as Pulumi dynamic resources.

A small typed client (`ZabbixClient`, stdlib only) and four resources:

- `ZabbixAdmin`: replaces the image's default `Admin`/`zabbix` password with a random one
  (first `up`) and afterwards proves that password still logs in.
- `ZabbixSaml`: the SAML user directory (Keycloak as IdP) and `authentication.update` that
  enables SAML with just-in-time provisioning, IdP groups mapped to Zabbix roles/user groups.
- `ZabbixMonitoredHost`: one Zabbix host per IT-Stack service, with web scenarios (HTTP),
  simple TCP checks and/or an agent interface, and a trigger per check.
- `ZabbixNotifications`: the e-mail media type pointed at the stack's mail server, and a
  Mattermost webhook media type + action for problems (INT-22).

API reference: https://www.zabbix.com/documentation/7.0/en/manual/api (user.login, user.update,
userdirectory.*, authentication.update, hostgroup.*, host.*, httptest.create, item.create,
trigger.create, mediatype.*, action.*). Every call is idempotent from Pulumi's point of view:
create looks objects up by name first, delete removes what create made.

`api_url` and `admin_password` (where and how the provider connects) are part of every diff, so
state holds the values that reach Zabbix now. A refused login raises `ZabbixAuthError` in
read and delete as everywhere else: never "not found", never a silent no-op.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Mapping, Sequence

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

DEFAULT_ADMIN = "Admin"
DEFAULT_PASSWORD = "zabbix"  # what the official images ship with (docs: "Log in with Admin/zabbix")

# Constants of the Zabbix 7.0 API.
IDP_TYPE_SAML = 2
HTTPTEST_AUTH_NONE = 0
ITEM_TYPE_SIMPLE = 3
VALUE_TYPE_UNSIGNED = 3
INTERFACE_TYPE_AGENT = 1
MEDIA_TYPE_EMAIL = 0
MEDIA_TYPE_WEBHOOK = 4
SMTP_SECURITY_STARTTLS = 1
SEVERITY_HIGH = 4


class ZabbixApiError(RuntimeError):
    pass


class ZabbixAuthError(ZabbixApiError):
    """Zabbix refused the login (its message names no password)."""


class ZabbixClient:
    """JSON-RPC 2.0 over HTTP; the session token goes in the Authorization header (7.0+). Linking a
    template in host.create took over 30 s on a loaded 2-core machine (real Zabbix 6.0): a long timeout."""

    def __init__(self, url: str, timeout: float = 180):
        self.url = url.rstrip("/") + "/api_jsonrpc.php"
        self.timeout = timeout
        self.token: str | None = None
        self._id = 0

    def call(self, method: str, params: Any) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": self._id}).encode()
        headers = {"Content-Type": "application/json-rpc"}
        if self.token and method not in ("user.login", "apiinfo.version"):
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            answer = json.loads(resp.read().decode())
        if "error" in answer:
            err = answer["error"]
            raise ZabbixApiError(f"{method}: {err.get('message')} {err.get('data')}")
        return answer["result"]

    def login(self, user: str, password: str) -> None:
        try:
            self.token = self.call("user.login", {"username": user, "password": password})
        except ZabbixApiError as e:
            raise ZabbixAuthError(f"Zabbix at {self.url} refused the login of {user}: {e}") from None

    def try_login(self, user: str, password: str) -> bool:
        try:
            self.login(user, password)
            return True
        except ZabbixApiError:
            self.token = None
            return False

    # Look-ups by name --------------------------------------------------------------------
    def one(self, method: str, key: str, filt: Mapping[str, Any], output: Sequence[str] | str = "extend"):
        found = self.call(method, {"output": output, "filter": dict(filt)})
        return found[0] if found else None

    def id_of(self, method: str, key: str, filt: Mapping[str, Any]) -> str:
        found = self.one(method, key, filt, output=[key])
        if not found:
            raise ZabbixApiError(f"{method}: nothing matches {dict(filt)}")
        return found[key]

    def ensure_usergroup(self, name: str, read_hostgroup: str) -> str:
        """A user group that may read (permission 2) the hosts of `read_hostgroup`."""
        rights = [{"id": self.ensure_hostgroup(read_hostgroup), "permission": 2}]
        found = self.one("usergroup.get", "usrgrpid", {"name": [name]}, output=["usrgrpid"])
        if found:
            self.call("usergroup.update", {"usrgrpid": found["usrgrpid"], "hostgroup_rights": rights})
            return found["usrgrpid"]
        return self.call("usergroup.create", {"name": name, "hostgroup_rights": rights})["usrgrpids"][0]

    def ensure_hostgroup(self, name: str) -> str:
        found = self.one("hostgroup.get", "groupid", {"name": [name]}, output=["groupid"])
        if found:
            return found["groupid"]
        return self.call("hostgroup.create", {"name": name})["groupids"][0]


def wait_for_api(url: str, attempts: int = 60, delay: float = 5) -> ZabbixClient:
    """The web container is healthy before this runs; still, retry a passing connection error."""
    client = ZabbixClient(url)
    for i in range(attempts):
        try:
            client.call("apiinfo.version", {})
            return client
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if i == attempts - 1:
                raise
            time.sleep(delay)
    return client


def admin_client(props: Mapping[str, Any]) -> ZabbixClient:
    client = wait_for_api(props["api_url"])
    client.login(DEFAULT_ADMIN, props["admin_password"])
    return client


def _secret_opts(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))


# ---------------------------------------------------------------------------------------------
# Admin password
# ---------------------------------------------------------------------------------------------
class ZabbixAdminProvider(ResourceProvider):
    def create(self, props):
        client = wait_for_api(props["api_url"])
        if not client.try_login(DEFAULT_ADMIN, props["admin_password"]):
            # First start: the schema's default password. Change it, then prove the new one.
            client.login(DEFAULT_ADMIN, DEFAULT_PASSWORD)
            userid = client.id_of("user.get", "userid", {"username": DEFAULT_ADMIN})
            client.call("user.update", {"userid": userid, "current_passwd": DEFAULT_PASSWORD,
                                        "passwd": props["admin_password"]})
            client.login(DEFAULT_ADMIN, props["admin_password"])
        return CreateResult("zabbix-admin", dict(props))

    def read(self, id_, props):
        client = wait_for_api(props["api_url"], attempts=3)
        if client.try_login(DEFAULT_ADMIN, props["admin_password"]):
            return ReadResult(id_, props)
        if client.try_login(DEFAULT_ADMIN, DEFAULT_PASSWORD):
            # A fresh database (the image default again): gone, so `up` sets the password anew.
            return ReadResult(None, props)
        # Neither ours nor the default: changed by hand. Say so rather than guess.
        raise ZabbixAuthError(f"Zabbix at {client.url} refuses {DEFAULT_ADMIN}'s password from state and the "
                              "image default: it was changed outside Pulumi; set it back to the stack's value")

    def diff(self, _id, olds, news):
        return DiffResult(changes=olds.get("admin_password") != news.get("admin_password")
                          or olds.get("api_url") != news.get("api_url"))

    def update(self, _id, olds, news):
        client = wait_for_api(news["api_url"])
        if olds.get("admin_password") != news["admin_password"]:
            client.login(DEFAULT_ADMIN, olds["admin_password"])
            userid = client.id_of("user.get", "userid", {"username": DEFAULT_ADMIN})
            client.call("user.update", {"userid": userid, "current_passwd": olds["admin_password"],
                                        "passwd": news["admin_password"]})
        return UpdateResult(dict(news))

    def delete(self, _id, props):
        # The password lives in the Zabbix database, which goes with the stack.
        return None


class ZabbixAdmin(Resource):
    """The `Admin` super user's password, rotated away from the image default."""

    def __init__(self, name: str, *, api_url: pulumi.Input[str], admin_password: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(ZabbixAdminProvider(), name,
                         {"api_url": api_url, "admin_password": pulumi.Output.secret(admin_password)},
                         _secret_opts(opts, "admin_password"))


# ---------------------------------------------------------------------------------------------
# SAML single sign-on
# ---------------------------------------------------------------------------------------------
def _saml_directory(props) -> dict:
    return {
        "idp_entityid": props["idp_entityid"],
        "sso_url": props["sso_url"],
        "slo_url": props["slo_url"],
        "username_attribute": props["username_attribute"],
        "sp_entityid": props["sp_entityid"],
        "nameid_format": props["nameid_format"],
        # Keycloak signs documents and assertions (keycloak.py saml_client): require both.
        "sign_messages": 1,
        "sign_assertions": 1,
        "sign_authn_requests": 0,
        "sign_logout_requests": 0,
        "sign_logout_responses": 0,
        "encrypt_nameid": 0,
        "encrypt_assertions": 0,
        "group_name": props["group_attribute"],
        "user_username": props["firstname_attribute"],
        "user_lastname": props["lastname_attribute"],
        "scim_status": 0,
    }


class ZabbixSamlProvider(ResourceProvider):
    def _apply(self, props) -> str:
        client = admin_client(props)
        for name, hostgroup in (props.get("own_user_groups") or {}).items():
            client.ensure_usergroup(name, hostgroup)
        groups = []
        for mapping in props["provision_groups"]:
            groups.append({
                "name": mapping["idp_group"],
                "roleid": client.id_of("role.get", "roleid", {"name": mapping["role"]}),
                "user_groups": [{"usrgrpid": client.id_of("usergroup.get", "usrgrpid", {"name": g})}
                                for g in mapping["user_groups"]],
            })
        directory = _saml_directory(props) | {"provision_status": 1, "provision_groups": groups}
        existing = client.call("userdirectory.get", {"output": ["userdirectoryid"],
                                                     "filter": {"idp_type": IDP_TYPE_SAML}})
        if existing:  # only one SAML directory may exist: take it over
            udid = existing[0]["userdirectoryid"]
            client.call("userdirectory.update", {"userdirectoryid": udid, **directory})
        else:
            udid = client.call("userdirectory.create", {"idp_type": IDP_TYPE_SAML, **directory})["userdirectoryids"][0]
        client.call("authentication.update", {
            "saml_auth_enabled": 1,
            "saml_jit_status": 1,  # create users on first SSO login
            "saml_case_sensitive": 0,
            "jit_provision_interval": "1h",
            # Users the IdP no longer maps go to the built-in "Disabled" group (no access).
            "disabled_usrgrpid": client.id_of("usergroup.get", "usrgrpid", {"name": props["disabled_group"]}),
        })
        return udid

    def create(self, props):
        udid = self._apply(props)
        return CreateResult(f"saml-{udid}", dict(props) | {"userdirectoryid": udid})

    def read(self, id_, props):
        client = admin_client(props)
        found = client.call("userdirectory.get", {"output": "extend", "filter": {"idp_type": IDP_TYPE_SAML}})
        if not found:
            return ReadResult(None, props)
        live = found[0]
        # Report drift in the fields we own, so the next `up` puts them back.
        state = dict(props)
        for key in ("idp_entityid", "sso_url", "slo_url", "username_attribute", "sp_entityid"):
            state[key] = live.get(key, props.get(key))
        return ReadResult(id_, state)

    def diff(self, _id, olds, news):
        # `userdirectoryid` is an output: compare inputs only, or every preview shows a change.
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in news if k != "userdirectoryid"))

    def update(self, _id, olds, news):
        udid = self._apply(news)
        return UpdateResult(dict(news) | {"userdirectoryid": udid})

    def delete(self, _id, props):
        client = admin_client(props)
        client.call("authentication.update", {"saml_auth_enabled": 0, "saml_jit_status": 0})
        found = client.call("userdirectory.get", {"output": ["userdirectoryid"], "filter": {"idp_type": IDP_TYPE_SAML}})
        if found:
            client.call("userdirectory.delete", [found[0]["userdirectoryid"]])


class ZabbixSaml(Resource):
    userdirectoryid: pulumi.Output[str]

    def __init__(self, name: str, *, api_url: pulumi.Input[str], admin_password: pulumi.Input[str],
                 sp_entityid: str, idp_entityid: str, sso_url: str, slo_url: str,
                 username_attribute: str, group_attribute: str, firstname_attribute: str,
                 lastname_attribute: str, provision_groups: Sequence[Mapping[str, Any]],
                 own_user_groups: Mapping[str, str] | None = None,
                 disabled_group: str = "Disabled",
                 nameid_format: str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(ZabbixSamlProvider(), name, {
            "api_url": api_url,
            "admin_password": pulumi.Output.secret(admin_password),
            "sp_entityid": sp_entityid,
            "idp_entityid": idp_entityid,
            "sso_url": sso_url,
            "slo_url": slo_url,
            "username_attribute": username_attribute,
            "group_attribute": group_attribute,
            "firstname_attribute": firstname_attribute,
            "lastname_attribute": lastname_attribute,
            "nameid_format": nameid_format,
            "provision_groups": [dict(g) for g in provision_groups],
            "disabled_group": disabled_group,
            # User groups this stack creates: name -> host group its members may read.
            "own_user_groups": dict(own_user_groups or {}),
            "userdirectoryid": None,
        }, _secret_opts(opts, "admin_password"))


# ---------------------------------------------------------------------------------------------
# Monitored hosts
# ---------------------------------------------------------------------------------------------
def _create_host(client: ZabbixClient, props) -> str:
    groupid = client.ensure_hostgroup(props["group"])
    host: dict[str, Any] = {
        "host": props["host"],
        "name": props["visible_name"],
        "groups": [{"groupid": groupid}],
        "description": props.get("description", ""),
        "tags": [{"tag": "itstack", "value": props["service"]}],
    }
    agent = props.get("agent")
    if agent:
        host["interfaces"] = [{"type": INTERFACE_TYPE_AGENT, "main": 1, "useip": 0, "ip": "",
                               "dns": agent["dns"], "port": str(int(agent["port"]))}]
        host["templates"] = [{"templateid": client.id_of("template.get", "templateid", {"host": t})}
                             for t in agent.get("templates", [])]
    hostid = client.call("host.create", host)["hostids"][0]
    for check in props.get("web_checks", []):
        client.call("httptest.create", {
            "name": check["name"],
            "hostid": hostid,
            "delay": check.get("delay", "1m"),
            "retries": 2,
            "steps": [{"name": "GET /", "url": check["url"], "no": 1, "status_codes": check["status_codes"],
                       "follow_redirects": 0, "timeout": "15s"}],
            "verify_peer": 0,
            "verify_host": 0,
            "authentication": HTTPTEST_AUTH_NONE,
        })
        client.call("trigger.create", {
            "description": f"{props['service']}: {check['name']} fails",
            "expression": f"last(/{props['host']}/web.test.fail[{check['name']}])<>0",
            "priority": SEVERITY_HIGH,
            "tags": [{"tag": "itstack", "value": props["service"]}],
        })
    for check in props.get("tcp_checks", []):
        # Numbers reach a dynamic provider as floats (5432.0): Zabbix wants the integer.
        key = f"net.tcp.service[tcp,{check['address']},{int(check['port'])}]"
        client.call("item.create", {
            "name": check["name"],
            "key_": key,
            "hostid": hostid,
            "type": ITEM_TYPE_SIMPLE,
            "value_type": VALUE_TYPE_UNSIGNED,
            "delay": check.get("delay", "1m"),
        })
        client.call("trigger.create", {
            "description": f"{props['service']}: {check['name']} is down",
            "expression": f"max(/{props['host']}/{key},#3)=0",
            "priority": SEVERITY_HIGH,
            "tags": [{"tag": "itstack", "value": props["service"]}],
        })
    return hostid


def _delete_host(client: ZabbixClient, name: str) -> None:
    found = client.call("host.get", {"output": ["hostid"], "filter": {"host": [name]}})
    if found:
        client.call("host.delete", [found[0]["hostid"]])


class ZabbixMonitoredHostProvider(ResourceProvider):
    _DEFINITION = ("host", "visible_name", "group", "service", "web_checks", "tcp_checks", "agent", "description")

    def create(self, props):
        client = admin_client(props)
        _delete_host(client, props["host"])  # a leftover of an interrupted run: start clean
        hostid = _create_host(client, props)
        return CreateResult(f"host-{props['host']}", dict(props) | {"hostid": hostid})

    def read(self, id_, props):
        client = admin_client(props)
        found = client.call("host.get", {"output": ["hostid"], "filter": {"host": [props["host"]]}})
        return ReadResult(id_ if found else None, props)

    def diff(self, _id, olds, news):
        # A changed check definition rebuilds the host (history of a lab stack is cheap).
        replaces = [k for k in self._DEFINITION if olds.get(k) != news.get(k)]
        changes = bool(replaces) or olds.get("admin_password") != news.get("admin_password") \
            or olds.get("api_url") != news.get("api_url")
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, _id, olds, news):
        admin_client(news)  # a new address or password works before state records it
        return UpdateResult(dict(news) | {"hostid": olds.get("hostid")})

    def delete(self, _id, props):
        _delete_host(admin_client(props), props["host"])


class ZabbixMonitoredHost(Resource):
    hostid: pulumi.Output[str]

    def __init__(self, name: str, *, api_url: pulumi.Input[str], admin_password: pulumi.Input[str],
                 host: str, visible_name: str, group: str, service: str,
                 web_checks: Sequence[Mapping[str, Any]] = (), tcp_checks: Sequence[Mapping[str, Any]] = (),
                 agent: Mapping[str, Any] | None = None, description: str = "",
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(ZabbixMonitoredHostProvider(), name, {
            "api_url": api_url,
            "admin_password": pulumi.Output.secret(admin_password),
            "host": host,
            "visible_name": visible_name,
            "group": group,
            "service": service,
            "web_checks": [dict(c) for c in web_checks],
            "tcp_checks": [dict(c) for c in tcp_checks],
            "agent": dict(agent) if agent else None,
            "description": description,
            "hostid": None,
        }, _secret_opts(opts, "admin_password"))


# ---------------------------------------------------------------------------------------------
# Notifications: e-mail through the stack's mail server, problems to Mattermost
# ---------------------------------------------------------------------------------------------
MATTERMOST_MEDIA = "IT-Stack Mattermost"
MATTERMOST_ACTION = "IT-Stack problems to Mattermost"

# The webhook script runs inside Zabbix (Duktape JS). It posts one message per event to a
# Mattermost incoming webhook and fails the alert when Mattermost does not answer 200.
MATTERMOST_SCRIPT = r"""
var p = JSON.parse(value);
var req = new HttpRequest();
req.addHeader('Content-Type: application/json');
var resolved = p.event_value === '0';
var text = (resolved ? ':white_check_mark: RESOLVED ' : ':rotating_light: PROBLEM ') +
    '**' + p.event_name + '** on ' + p.host + ' (severity ' + p.severity + ')\n' + p.message +
    (p.zabbix_url ? '\n' + p.zabbix_url + '/tr_events.php?triggerid=' + p.trigger_id + '&eventid=' + p.event_id : '');
var body = {text: text, username: p.username};
if (p.channel) { body.channel = p.channel; }
var resp = req.post(p.webhook_url, JSON.stringify(body));
if (req.getStatus() !== 200) {
    throw 'Mattermost answered ' + req.getStatus() + ': ' + resp;
}
return 'OK';
"""


def _mattermost_media(props) -> dict:
    params = [
        {"name": "webhook_url", "value": props["mattermost_webhook_url"]},
        {"name": "channel", "value": props.get("mattermost_channel") or ""},
        {"name": "username", "value": "zabbix"},
        {"name": "zabbix_url", "value": props["zabbix_url"]},
        {"name": "event_name", "value": "{EVENT.NAME}"},
        {"name": "event_value", "value": "{EVENT.VALUE}"},
        {"name": "event_id", "value": "{EVENT.ID}"},
        {"name": "trigger_id", "value": "{TRIGGER.ID}"},
        {"name": "host", "value": "{HOST.NAME}"},
        {"name": "severity", "value": "{EVENT.SEVERITY}"},
        {"name": "message", "value": "{ALERT.MESSAGE}"},
    ]
    return {
        "name": MATTERMOST_MEDIA,
        "type": MEDIA_TYPE_WEBHOOK,
        "status": 0,
        "parameters": params,
        "script": MATTERMOST_SCRIPT,
        "timeout": "30s",
        "process_tags": 0,
        "message_templates": [
            {"eventsource": 0, "recovery": 0, "subject": "{EVENT.NAME}", "message": "Problem started at {EVENT.TIME} on {EVENT.DATE}"},
            {"eventsource": 0, "recovery": 1, "subject": "{EVENT.NAME}", "message": "Resolved after {EVENT.DURATION}"},
        ],
    }


class ZabbixNotificationsProvider(ResourceProvider):
    def _apply(self, props) -> dict:
        client = admin_client(props)
        out: dict[str, Any] = {}
        smtp = props.get("smtp")
        if smtp:
            email = client.one("mediatype.get", "mediatypeid", {"type": MEDIA_TYPE_EMAIL, "name": "Email"},
                               output=["mediatypeid"])
            settings = {
                "smtp_server": smtp["host"], "smtp_port": int(smtp["port"]), "smtp_helo": props["helo"],
                "smtp_email": smtp["from_address"], "smtp_security": SMTP_SECURITY_STARTTLS,
                "smtp_verify_peer": 0, "smtp_verify_host": 0, "smtp_authentication": 1,
                "username": smtp["user"], "passwd": smtp["password"], "status": 0,
            }
            if email:
                client.call("mediatype.update", {"mediatypeid": email["mediatypeid"], **settings})
                out["email_mediatypeid"] = email["mediatypeid"]
            else:
                out["email_mediatypeid"] = client.call("mediatype.create", {"name": "Email", "type": MEDIA_TYPE_EMAIL,
                                                                            **settings})["mediatypeids"][0]
        if props.get("mattermost_webhook_url"):
            media = _mattermost_media(props)
            found = client.one("mediatype.get", "mediatypeid", {"name": MATTERMOST_MEDIA}, output=["mediatypeid"])
            if found:
                mtid = found["mediatypeid"]
                client.call("mediatype.update", {"mediatypeid": mtid, **{k: v for k, v in media.items() if k != "type"}})
            else:
                mtid = client.call("mediatype.create", media)["mediatypeids"][0]
            # The action sends to Admin's Mattermost medium (channel given in the media type).
            admin = client.call("user.get", {"output": ["userid"], "filter": {"username": DEFAULT_ADMIN},
                                             "selectMedias": "extend"})[0]
            medias = [m for m in admin.get("medias", []) if m.get("mediatypeid") != mtid]
            medias = [{k: m[k] for k in ("mediatypeid", "sendto", "active", "severity", "period") if k in m}
                      for m in medias]
            medias.append({"mediatypeid": mtid, "sendto": props.get("mattermost_channel") or "ops-alerts",
                           "active": 0, "severity": 60, "period": "1-7,00:00-24:00"})
            client.call("user.update", {"userid": admin["userid"], "medias": medias})
            action = {
                "name": MATTERMOST_ACTION,
                "eventsource": 0,
                "status": 0,
                "esc_period": "1h",
                "filter": {"evaltype": 0, "conditions": [
                    # trigger severity >= Warning (conditiontype 4, operator 5 ">=")
                    {"conditiontype": 4, "operator": 5, "value": "2"},
                ]},
                "operations": [{"operationtype": 0, "opmessage": {"default_msg": 1, "mediatypeid": mtid},
                                "opmessage_usr": [{"userid": admin["userid"]}]}],
                "recovery_operations": [{"operationtype": 11, "opmessage": {"default_msg": 1}}],
            }
            existing = client.one("action.get", "actionid", {"name": MATTERMOST_ACTION}, output=["actionid"])
            if existing:
                client.call("action.delete", [existing["actionid"]])
            out["actionid"] = client.call("action.create", action)["actionids"][0]
            out["mattermost_mediatypeid"] = mtid
        return out

    def create(self, props):
        return CreateResult("zabbix-notifications", dict(props) | self._apply(props))

    def read(self, id_, props):
        client = admin_client(props)  # a refused login raises
        if props.get("mattermost_webhook_url"):
            found = client.one("mediatype.get", "mediatypeid", {"name": MATTERMOST_MEDIA}, output=["mediatypeid"])
            if not found:
                return ReadResult(None, props)  # removed behind our back: `up` recreates it
        return ReadResult(id_, props)

    def diff(self, _id, olds, news):
        keys = ("smtp", "mattermost_webhook_url", "mattermost_channel", "zabbix_url", "helo", "admin_password", "api_url")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id, olds, news):
        return UpdateResult(dict(news) | self._apply(news))

    def delete(self, _id, props):
        client = admin_client(props)
        found = client.one("action.get", "actionid", {"name": MATTERMOST_ACTION}, output=["actionid"])
        if found:
            client.call("action.delete", [found["actionid"]])
        media = client.one("mediatype.get", "mediatypeid", {"name": MATTERMOST_MEDIA}, output=["mediatypeid"])
        if media:
            client.call("mediatype.delete", [media["mediatypeid"]])


class ZabbixNotifications(Resource):
    def __init__(self, name: str, *, api_url: pulumi.Input[str], admin_password: pulumi.Input[str],
                 zabbix_url: str, helo: str, smtp: pulumi.Input[Mapping[str, Any]] | None = None,
                 mattermost_webhook_url: pulumi.Input[str] | None = None, mattermost_channel: str | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(ZabbixNotificationsProvider(), name, {
            "api_url": api_url,
            "admin_password": pulumi.Output.secret(admin_password),
            "zabbix_url": zabbix_url,
            "helo": helo,
            "smtp": pulumi.Output.secret(smtp) if smtp is not None else None,
            "mattermost_webhook_url": pulumi.Output.secret(mattermost_webhook_url)
            if mattermost_webhook_url is not None else None,
            "mattermost_channel": mattermost_channel,
        }, _secret_opts(opts, "admin_password", "smtp", "mattermost_webhook_url"))
