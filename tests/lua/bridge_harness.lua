-- Runs components/collaboration/files/mod_itstack_oidc.lua outside Prosody: the Prosody
-- libraries it uses are stubbed here (pure Lua 5.3+), Keycloak's token and userinfo endpoints
-- answer canned responses, and the results are printed as one JSON line for the pytest test.
local module_path = assert(arg[1], "usage: bridge_harness.lua <module.lua>")
local M32 = 0xffffffff

local function rrot(x, n) return ((x >> n) | (x << (32 - n))) & M32 end
local K = {
  0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
  0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
  0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
  0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
  0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
  0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
  0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
  0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2}

local function sha256(msg)
  local h = {0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19}
  local ml = #msg * 8
  msg = msg .. "\128" .. string.rep("\0", (55 - #msg) % 64) .. string.pack(">I8", ml)
  for i = 1, #msg, 64 do
    local w = {}
    for j = 1, 16 do w[j] = string.unpack(">I4", msg, i + (j - 1) * 4) end
    for j = 17, 64 do
      local s0 = rrot(w[j-15], 7) ~ rrot(w[j-15], 18) ~ (w[j-15] >> 3)
      local s1 = rrot(w[j-2], 17) ~ rrot(w[j-2], 19) ~ (w[j-2] >> 10)
      w[j] = (w[j-16] + s0 + w[j-7] + s1) & M32
    end
    local a, b, c, d, e, f, g, hh = table.unpack(h)
    for j = 1, 64 do
      local t1 = (hh + (rrot(e, 6) ~ rrot(e, 11) ~ rrot(e, 25)) + ((e & f) ~ ((~e) & g)) + K[j] + w[j]) & M32
      local t2 = ((rrot(a, 2) ~ rrot(a, 13) ~ rrot(a, 22)) + ((a & b) ~ (a & c) ~ (b & c))) & M32
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    for j, v in ipairs({a, b, c, d, e, f, g, hh}) do h[j] = (h[j] + v) & M32 end
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(h))
end

local function hmac_sha256(key, msg)
  if #key > 64 then key = sha256(key) end
  key = key .. string.rep("\0", 64 - #key)
  local ipad = key:gsub(".", function(ch) return string.char(ch:byte() ~ 0x36) end)
  local opad = key:gsub(".", function(ch) return string.char(ch:byte() ~ 0x5c) end)
  return sha256(opad .. sha256(ipad .. msg))
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64encode(data)
  return ((data:gsub(".", function(x)
    local r, byte = "", x:byte()
    for i = 8, 1, -1 do r = r .. (((byte >> (i - 1)) & 1) == 1 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return B64:sub(math.floor(c) + 1, math.floor(c) + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local function json_encode(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(ch) return string.format("\\u%04x", ch:byte()) end) .. '"'
  elseif t == "number" then
    return math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    if #v > 0 then
      local parts = {}
      for _, x in ipairs(v) do parts[#parts + 1] = json_encode(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = json_encode(tostring(k)) .. ":" .. json_encode(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end
local function urldecode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Canned Keycloak answers: bodies are keys into `decoded`.
local decoded = {}
local userinfo_roles = { "moderator" }
local token_request_body
package.preload["util.json"] = function()
  return { encode = json_encode, decode = function(s) return decoded[s] end }
end
package.preload["util.hashes"] = function() return { hmac_sha256 = hmac_sha256 } end
package.preload["util.encodings"] = function() return { base64 = { encode = b64encode } } end
local n = 0
package.preload["util.uuid"] = function() return { generate = function() n = n + 1; return "state-" .. n end } end
package.preload["util.http"] = function()
  return {
    urlencode = urlencode,
    formencode = function(form)
      local parts = {}
      for _, f in ipairs(form) do parts[#parts + 1] = urlencode(f.name) .. "=" .. urlencode(f.value) end
      return table.concat(parts, "&")
    end,
    formdecode = function(q)
      local out = {}
      for k, v in q:gmatch("([^&=]+)=([^&]*)") do out[urldecode(k)] = urldecode(v) end
      return out
    end,
  }
end
package.preload["net.http"] = function()
  return {
    request = function(url, opts, cb)
      if url == os.getenv("ITSTACK_OIDC_TOKEN_URL") then
        token_request_body = opts.body
        decoded["TOKENS"] = { access_token = "at", token_type = "Bearer" }
        cb("TOKENS", 200)
      elseif url == os.getenv("ITSTACK_OIDC_USERINFO_URL") then
        assert(opts.headers.Authorization == "Bearer at")
        decoded["USER"] = { sub = "uuid-ann", name = "Ann", email = "ann@x", roles = userinfo_roles }
        cb("USER", 200)
      else
        cb("", 404)
      end
    end,
  }
end

local routes
module = {
  log = function() end,
  depends = function() end,
  provides = function(_, kind, def) if kind == "http" then routes = def.route end end,
}
dofile(module_path)
assert(routes, "the module registered no HTTP routes")

local function call(route, query, cookie)
  local resp = { headers = {} }
  function resp:send(body) self.body = body; self.sent = true end
  local ret = routes[route]({ request = { url = { query = query }, headers = { cookie = cookie } }, response = resp })
  assert(ret == true, "handlers return true")
  assert(resp.sent, "a response was sent")
  return resp
end

local result = {}
local login = call("GET /login", "room=TeamRoom")
result.login_status, result.login_location = login.status_code, login.headers.location
local state = login.headers.set_cookie:match("itstack_oidc_state=([^;]+)")
result.foreign_cookie_status = call("GET /callback", "code=c1&state=" .. state, "itstack_oidc_state=other").status_code
local cb = call("GET /callback", "code=c1&state=" .. state, "x=1; itstack_oidc_state=" .. state)
result.callback_status, result.callback_location = cb.status_code, cb.headers.location
result.token_request_body = token_request_body
userinfo_roles = { "someone-else" }
local login2 = call("GET /login", "room=other")
local state2 = login2.headers.set_cookie:match("itstack_oidc_state=([^;]+)")
result.no_role_status = call("GET /callback", "code=c2&state=" .. state2, "itstack_oidc_state=" .. state2).status_code
print(json_encode(result))
