-- itstack OIDC -> Jitsi token bridge (components/collaboration/jitsi.py uploads this file).
--
-- Jitsi's JWT authentication accepts tokens signed with its own shared secret (HS256) and
-- carrying `room`, `aud`, `iss`, `sub`; Keycloak issues neither that format nor the `?jwt=`
-- redirect Jitsi expects. This module sits on Prosody's HTTP server (proxied by the web
-- container at /oidc/) and bridges the two:
--   GET /oidc/login?room=<room>  -> state cookie, redirect to Keycloak (authorization code flow)
--   GET /oidc/callback?code&state -> code exchanged for an access token on Keycloak's back
--        channel (client secret), user read from the userinfo endpoint, a Jitsi JWT signed with
--        JWT_APP_SECRET, redirect to <PUBLIC_URL>/<room>?jwt=<token>
-- Everything comes from the container's environment (the run script uses with-contenv).

local http = require "net.http";
local http_util = require "util.http";
local json = require "util.json";
local hashes = require "util.hashes";
local base64 = require "util.encodings".base64;
local uuid = require "util.uuid";

local env = os.getenv;
local auth_url = env("ITSTACK_OIDC_AUTH_URL");
local token_url = env("ITSTACK_OIDC_TOKEN_URL");
local userinfo_url = env("ITSTACK_OIDC_USERINFO_URL");
local client_id = env("ITSTACK_OIDC_CLIENT_ID");
local client_secret = env("ITSTACK_OIDC_CLIENT_SECRET");
local required_role = env("ITSTACK_OIDC_REQUIRED_ROLE");
local public_url = (env("PUBLIC_URL") or ""):gsub("/+$", "");
local app_id = env("JWT_APP_ID");
local app_secret = env("JWT_APP_SECRET");
local xmpp_domain = env("XMPP_DOMAIN") or "meet.jitsi";
local token_ttl = tonumber(env("ITSTACK_JWT_TTL") or "3600");
local redirect_uri = public_url .. "/oidc/callback";
local cookie_name = "itstack_oidc_state";
local state_ttl = 600;

-- XMPP_MODULES loads this module on the guest VirtualHost as well (jitsi-meet.cfg.lua): the bridge
-- serves the main host only, so signing in stays on one host and one set of routes.
if module.host and module.host ~= xmpp_domain then
    module:log("debug", "itstack_oidc: not on %s (only on %s)", module.host, xmpp_domain);
    return;
end

for name, value in pairs({ ITSTACK_OIDC_AUTH_URL = auth_url, ITSTACK_OIDC_TOKEN_URL = token_url,
        ITSTACK_OIDC_USERINFO_URL = userinfo_url, ITSTACK_OIDC_CLIENT_ID = client_id,
        ITSTACK_OIDC_CLIENT_SECRET = client_secret, JWT_APP_ID = app_id, JWT_APP_SECRET = app_secret }) do
    if not value or value == "" then
        module:log("error", "itstack_oidc: %s is not set; the bridge is disabled", name);
        return;
    end
end

-- Pending logins: state -> { room = ..., expires = ... }.
local pending = {};

local function b64url(data)
    return (base64.encode(data):gsub("%+", "-"):gsub("/", "_"):gsub("=+$", ""));
end

local function sign_jwt(claims)
    local header = b64url(json.encode({ alg = "HS256", typ = "JWT" }));
    local payload = b64url(json.encode(claims));
    local signing_input = header .. "." .. payload;
    return signing_input .. "." .. b64url(hashes.hmac_sha256(app_secret, signing_input));
end

-- Jitsi room names: what the web app accepts in a path segment, lower case.
local function clean_room(room)
    if type(room) ~= "string" or room == "" then return nil; end
    room = room:lower();
    if not room:match("^[%w%._%-]+$") or #room > 128 then return nil; end
    return room;
end

local function reply(response, code, text)
    response.status_code = code;
    response.headers.content_type = "text/plain; charset=utf-8";
    response:send(text);
end

local function redirect(response, location, cookie)
    response.status_code = 302;
    response.headers.location = location;
    response.headers.cache_control = "no-store";
    if cookie then response.headers.set_cookie = cookie; end
    response:send("");
end

local function cookie_value(request, name)
    local header = request.headers.cookie;
    if not header then return nil; end
    for k, v in header:gmatch("([^=;%s]+)=([^;]*)") do
        if k == name then return v; end
    end
    return nil;
end

local function login(event)
    local query = event.request.url.query and http_util.formdecode(event.request.url.query) or {};
    local room = clean_room(query.room);
    local now = os.time();
    for s, p in pairs(pending) do
        if p.expires < now then pending[s] = nil; end
    end
    local state = uuid.generate();
    pending[state] = { room = room, expires = now + state_ttl };
    local location = auth_url .. "?" .. http_util.formencode({
        { name = "response_type", value = "code" },
        { name = "client_id", value = client_id },
        { name = "redirect_uri", value = redirect_uri },
        { name = "scope", value = "openid profile email" },
        { name = "state", value = state },
    });
    -- The state is bound to this browser: a login started elsewhere cannot be completed here.
    local cookie = cookie_name .. "=" .. state .. "; Path=/oidc/; Max-Age=" .. state_ttl
        .. "; HttpOnly; Secure; SameSite=Lax";
    redirect(event.response, location, cookie);
    return true;
end

local function has_role(userinfo)
    if not required_role or required_role == "" then return true; end
    local roles = userinfo.roles;
    if type(roles) == "string" then return roles == required_role; end
    if type(roles) ~= "table" then return false; end
    for _, r in ipairs(roles) do
        if r == required_role then return true; end
    end
    return false;
end

local function finish(response, room, userinfo)
    if not has_role(userinfo) then
        return reply(response, 403, "Your account may not start meetings here.");
    end
    local now = os.time();
    local token = sign_jwt({
        iss = app_id,
        aud = app_id,
        sub = xmpp_domain,
        room = room or "*",
        iat = now,
        nbf = now - 30,
        exp = now + token_ttl,
        context = {
            user = {
                id = userinfo.sub,
                name = userinfo.name or userinfo.preferred_username,
                email = userinfo.email,
            },
        },
    });
    local target = public_url .. "/" .. (room or "");
    redirect(response, target .. "?jwt=" .. http_util.urlencode(token),
        cookie_name .. "=; Path=/oidc/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
end

local function callback(event)
    local request, response = event.request, event.response;
    local query = request.url.query and http_util.formdecode(request.url.query) or {};
    local state, code = query.state, query.code;
    local entry = state and pending[state];
    if not entry or entry.expires < os.time() or cookie_value(request, cookie_name) ~= state then
        reply(response, 400, "Login expired or started in another browser; open the meeting link again.");
        return true;
    end
    pending[state] = nil;
    if not code then
        reply(response, 401, "Keycloak did not sign you in: " .. tostring(query.error or "no code"));
        return true;
    end
    local body = http_util.formencode({
        { name = "grant_type", value = "authorization_code" },
        { name = "code", value = code },
        { name = "redirect_uri", value = redirect_uri },
        { name = "client_id", value = client_id },
        { name = "client_secret", value = client_secret },
    });
    http.request(token_url, {
        method = "POST",
        body = body,
        headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json" },
    }, function(token_body, token_code)
        local tokens = token_code == 200 and json.decode(token_body) or nil;
        if not tokens or type(tokens.access_token) ~= "string" then
            module:log("warn", "itstack_oidc: token endpoint answered %s", tostring(token_code));
            return reply(response, 502, "Could not complete the sign-in with Keycloak.");
        end
        http.request(userinfo_url, {
            method = "GET",
            headers = { ["Authorization"] = "Bearer " .. tokens.access_token, ["Accept"] = "application/json" },
        }, function(info_body, info_code)
            local userinfo = info_code == 200 and json.decode(info_body) or nil;
            if not userinfo or type(userinfo.sub) ~= "string" then
                module:log("warn", "itstack_oidc: userinfo endpoint answered %s", tostring(info_code));
                return reply(response, 502, "Could not read your account from Keycloak.");
            end
            finish(response, entry.room, userinfo);
        end);
    end);
    -- true: the response is sent later, from the HTTP callbacks above.
    return true;
end

module:depends("http");
module:provides("http", {
    default_path = "/oidc";
    route = {
        ["GET /login"] = login;
        ["GET /callback"] = callback;
    };
});
module:log("info", "itstack_oidc: bridging %s to Jitsi tokens for %s", client_id, public_url);
