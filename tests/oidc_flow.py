"""Keycloak's admin REST API and an OpenID Connect authorization-code sign-in, as a browser does it,
with the standard library only. Used by the identity contract (containers lane) and the e2e lane."""
from __future__ import annotations

import base64
import html
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request


def request(method, url, data=None, token=None, form=False, opener=None):
    """(status, headers, body): JSON bodies decoded; an HTTP error carries the answer's start."""
    headers = {}
    body = None
    if data is not None:
        if form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        resp = (opener or urllib.request.build_opener()).open(req, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code >= 400:
            e.msg = f"{e.msg} ({method} {url}): {e.read().decode(errors='replace')[:500]}"
        raise
    with resp:
        text = resp.read().decode()
        return resp.status, resp.headers, (json.loads(text) if text and text.lstrip()[:1] in "{[" else text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def admin_token(base: str, user: str, password: str) -> str:
    _, _, tok = request("POST", f"{base}/realms/master/protocol/openid-connect/token",
                        {"grant_type": "password", "client_id": "admin-cli", "username": user, "password": password},
                        form=True)
    return tok["access_token"]


def code_flow_login(base, realm, client_id, client_secret, redirect, username, password):
    """(tokens, None) after a successful sign-in, (None, login page) when Keycloak refuses it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    query = urllib.parse.urlencode({"client_id": client_id, "response_type": "code", "scope": "openid",
                                    "redirect_uri": redirect, "state": "s1"})
    _, _, page = request("GET", f"{base}/realms/{realm}/protocol/openid-connect/auth?{query}", opener=opener)
    action = urllib.parse.urlsplit(
        html.unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page).group(1)))
    # Keycloak writes its public URL (KC_HOSTNAME) into the form; the tests reach the same server on
    # loopback, so the form goes to the address they used.
    action = f"{base}{action.path}?{action.query}"
    for cookie in jar:  # Keycloak marks its cookies Secure; the tests talk plain HTTP on loopback
        cookie.secure = False
    try:
        _, _, page = request("POST", action, {"username": username, "password": password}, form=True, opener=opener)
        return None, page
    except urllib.error.HTTPError as e:
        if e.code != 302:
            raise
        location = e.headers["Location"]
    assert location.startswith(redirect), location
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    _, _, tokens = request("POST", f"{base}/realms/{realm}/protocol/openid-connect/token",
                           {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                            "client_id": client_id, "client_secret": client_secret}, form=True)
    return tokens, None


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
