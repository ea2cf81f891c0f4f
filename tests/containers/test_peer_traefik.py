"""Traefik v3.7.13 (built by scripts/peers) running the configuration the program uploads.

The dev stack is evaluated under mocks; the test takes the two files the Traefik component uploads
(`/etc/traefik/traefik.yml`, `/etc/traefik/dynamic.yml`) and the inputs of its tls resources, and
runs the real binary as a host process on loopback. Rewritten, and only these:
  - traefik.yml: the `web`, `websecure` and `ping` entry-point addresses (:80, :443, :8082 become
    127.0.0.1:<free port>) and the file provider's path (a temp dir instead of /etc/traefik);
  - dynamic.yml: each service's server URL (http://itstack-dev-<service>:<port> becomes a stand-in
    backend on 127.0.0.1), the two certificate paths, and the dashboard user's bcrypt hash (the
    mocked RandomPassword has no real hash: the test makes a `$2a$10$` one, the form
    pulumi_random's bcrypt_hash has, for a password it knows);
  - the certificates: the mocked tls provider returns no real PEM, so the CA and site certificate
    are made with openssl from the recorded tls inputs (key algorithm and curve, subject, CA flag,
    SANs, allowed uses, validity).
The GELF check runs the same binary in a container (host network, the local debian-base image)
with the program's log driver and options, because shipping the access log is Docker's gelf
driver's job; there the config files keep the program's own paths, and only the entry-point
addresses and the gelf-address port (the test's UDP listener) differ.
"""
from __future__ import annotations

import gzip
import http.client
import http.server
import json
import os
import re
import secrets
import shlex
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings
import zlib
from pathlib import Path

import pytest

from dockertools import docker, local_image, unique
from harness import evaluate, stack_config

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from peerproc import free_port, start, stop  # noqa: E402

with warnings.catch_warnings():  # deprecated, still in 3.11: bcrypt through the system's libxcrypt
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

CACHE = Path(os.environ.get("ITSTACK_CACHE", "/var/cache/itstack"))
TRAEFIK = CACHE / "peers" / "traefik-v3.7.13" / "bin" / "traefik"
CONTAINER = "itstack-dev-traefik"
TLS = {t: f"tls:index/{t[0].lower()}{t[1:]}:{t}" for t in
       ("PrivateKey", "SelfSignedCert", "CertRequest", "LocallySignedCert")}
# allowed_uses of the tls provider -> openssl extension values.
KEY_USAGE = {"cert_signing": "keyCertSign", "crl_signing": "cRLSign", "digital_signature": "digitalSignature",
             "key_encipherment": "keyEncipherment"}
EXT_KEY_USAGE = {"server_auth": "serverAuth", "client_auth": "clientAuth"}


@pytest.fixture(scope="module")
def program():
    assert TRAEFIK.is_file() and os.access(TRAEFIK, os.X_OK), f"{TRAEFIK} missing: run scripts/peers"
    return evaluate("dev", stack_config("dev"))


@pytest.fixture(scope="module")
def uploads(program):
    return {u["file"]: u["content"] for u in program.container(CONTAINER).inputs["uploads"]}


# --- certificates, from the recorded tls inputs ---------------------------------------------

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"openssl {args[0]}: {r.stderr}"


def _key(rec, path, cwd):
    assert rec["algorithm"] == "ECDSA", rec
    curve = {"P256": "prime256v1", "P384": "secp384r1"}[rec["ecdsaCurve"]]
    _openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", path, cwd=cwd)
    os.chmod(Path(cwd) / path, 0o600)


def _subject(subj) -> str:
    parts = [("O", subj.get("organization")), ("CN", subj.get("commonName"))]
    return "".join(f"/{k}={v}" for k, v in parts if v)


def _extensions(rec, ca: bool) -> list[str]:
    uses = rec["allowedUses"]
    ext = [f"basicConstraints=critical,CA:{'TRUE' if ca else 'FALSE'}"]
    ku = [KEY_USAGE[u] for u in uses if u in KEY_USAGE]
    eku = [EXT_KEY_USAGE[u] for u in uses if u in EXT_KEY_USAGE]
    assert len(ku) + len(eku) == len(uses), f"unmapped allowed_uses {uses}"
    if ku:
        ext.append("keyUsage=critical," + ",".join(ku))
    if eku:
        ext.append("extendedKeyUsage=" + ",".join(eku))
    return ext


@pytest.fixture(scope="module")
def certs(program, uploads, tmp_path_factory):
    """CA and site certificate made the way the Traefik component declares them."""
    d = tmp_path_factory.mktemp("traefik-certs")
    ca_key = program.named(TLS["PrivateKey"], "traefik-ca-key").inputs
    site_key = program.named(TLS["PrivateKey"], "traefik-site-key").inputs
    ca = program.named(TLS["SelfSignedCert"], "traefik-ca").inputs
    csr = program.named(TLS["CertRequest"], "traefik-site-csr").inputs
    site = program.named(TLS["LocallySignedCert"], "traefik-site-cert").inputs
    assert ca["isCaCertificate"] is True
    _key(ca_key, "ca.key", d)
    _key(site_key, "site.key", d)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", _subject(ca["subject"]),
             "-days", str(int(ca["validityPeriodHours"]) // 24), "-out", "ca.crt",
             *sum((["-addext", e] for e in _extensions(ca, ca=True)), []), cwd=d)
    _openssl("req", "-new", "-key", "site.key", "-subj", _subject(csr["subject"]), "-out", "site.csr", cwd=d)
    ext = _extensions(site, ca=False) + ["subjectAltName=" + ",".join(f"DNS:{n}" for n in csr["dnsNames"])]
    (d / "site.ext").write_text("\n".join(ext) + "\n")
    _openssl("x509", "-req", "-in", "site.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", str(int(site["validityPeriodHours"]) // 24), "-extfile", "site.ext", "-out", "site.crt", cwd=d)
    return d


# --- stand-in backends ---------------------------------------------------------------------

class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = json.dumps({"service": self.server.service, "host": self.headers.get("Host"),
                           "proto": self.headers.get("X-Forwarded-Proto"), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backends(uploads):
    """One stand-in HTTP server per service the dynamic config routes to."""
    dynamic = json.loads(uploads["/etc/traefik/dynamic.yml"])
    servers, ports = [], {}
    try:
        for name in dynamic["http"]["services"]:
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
            srv.service = name
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            servers.append(srv)
            ports[name] = srv.server_address[1]
        yield ports
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()


# --- the configuration, rewritten only where a path or port must change ----------------------

def configure(program, uploads, certs, backends, out: Path, *, keep_paths: bool):
    """Write traefik.yml and dynamic.yml into `out`. keep_paths: files keep /etc/traefik paths
    (for the container, where `out` is mounted there). Returns (ports, dashboard password)."""
    static = json.loads(uploads["/etc/traefik/traefik.yml"])
    dynamic = json.loads(uploads["/etc/traefik/dynamic.yml"])
    ports = {ep: free_port() for ep in static["entryPoints"]}
    for ep, port in ports.items():
        assert re.fullmatch(r":\d+", static["entryPoints"][ep]["address"]), static["entryPoints"][ep]
        static["entryPoints"][ep]["address"] = f"127.0.0.1:{port}"
    conf_dir = "/etc/traefik"
    assert static["providers"]["file"]["filename"] == f"{conf_dir}/dynamic.yml"
    base = conf_dir if keep_paths else str(out)
    static["providers"]["file"]["filename"] = f"{base}/dynamic.yml"

    for name, svc in dynamic["http"]["services"].items():
        (server,) = svc["loadBalancer"]["servers"]
        assert re.fullmatch(rf"http://itstack-dev-{name}(-[a-z]+)?:\d+", server["url"]), server
        server["url"] = f"http://127.0.0.1:{backends[name]}"
    tls = dynamic["tls"]
    cert_paths = {f"{conf_dir}/certs/site.crt", f"{conf_dir}/certs/site.key"}
    for pair in tls["certificates"] + [tls["stores"]["default"]["defaultCertificate"]]:
        assert {pair["certFile"], pair["keyFile"]} == cert_paths
        if not keep_paths:
            pair["certFile"], pair["keyFile"] = f"{out}/certs/site.crt", f"{out}/certs/site.key"
    (out / "certs").mkdir(parents=True, exist_ok=True)
    for f in ("site.crt", "site.key"):
        (out / "certs" / f).write_bytes((certs / f).read_bytes())
    os.chmod(out / "certs" / "site.key", 0o644 if keep_paths else 0o600)

    # The dashboard user is `admin:<bcrypt hash of the generated password>`.
    users = dynamic["http"]["middlewares"]["dashboard-auth"]["basicAuth"]["users"]
    mocked = program.named("random:index/randomPassword:RandomPassword", "traefik-dashboard-password")
    assert mocked.inputs["length"] == 32
    (user,) = users
    assert user.startswith("admin:$2a$10$"), "the dashboard user carries the password's bcrypt hash"
    password = secrets.token_urlsafe(24)
    salt = "$2a$10$" + secrets.token_urlsafe(16)[:22].replace("-", ".").replace("_", "/")
    hashed = crypt.crypt(password, salt)
    assert hashed and hashed.startswith("$2a$10$"), "libxcrypt bcrypt unavailable"
    dynamic["http"]["middlewares"]["dashboard-auth"]["basicAuth"]["users"] = [f"admin:{hashed}"]

    # The program's files are JSON named .yml: written as the program writes them.
    (out / "traefik.yml").write_text(json.dumps(static, indent=2))
    (out / "dynamic.yml").write_text(json.dumps(dynamic, indent=2, sort_keys=True))
    os.chmod(out / "dynamic.yml", 0o644 if keep_paths else 0o600)
    return ports, password


def healthcheck_argv(program, config: Path) -> list[str]:
    """The program's Docker health check for Traefik, with the binary and config path of this run."""
    kind, cmd = program.container(CONTAINER).inputs["healthcheck"]["tests"]
    assert kind == "CMD-SHELL"
    argv = shlex.split(cmd)
    assert argv[0] == "traefik" and "--configFile=/etc/traefik/traefik.yml" in argv
    return [str(TRAEFIK)] + [f"--configFile={config}" if a.startswith("--configFile=") else a for a in argv[1:]]


@pytest.fixture(scope="module")
def traefik(program, uploads, certs, backends, tmp_path_factory):
    out = tmp_path_factory.mktemp("traefik")
    ports, password = configure(program, uploads, certs, backends, out, keep_paths=False)
    kind, cmd = program.container(CONTAINER).inputs["command"]
    assert (kind, cmd) == ("traefik", "--configFile=/etc/traefik/traefik.yml")
    proc = start([str(TRAEFIK), f"--configFile={out}/traefik.yml"], out / "traefik.log")
    try:
        health = healthcheck_argv(program, out / "traefik.yml")
        deadline = time.time() + 60
        while subprocess.run(health, capture_output=True).returncode != 0:
            assert proc.poll() is None, f"traefik exited: {(out / 'traefik.log').read_text()[-3000:]}"
            assert time.time() < deadline, f"the program's health check never passed: {(out / 'traefik.log').read_text()[-3000:]}"
            time.sleep(0.5)
        yield {"ports": ports, "password": password, "ca": certs / "ca.crt", "log": out / "traefik.log",
               "dynamic": json.loads(uploads["/etc/traefik/dynamic.yml"]), "proc": proc, "uploads": uploads}
    finally:
        stop(proc)


# --- HTTP(S) client that connects to loopback but speaks TLS for a host name ------------------

def request(port, host, path="/", *, tls=True, ca=None, auth=None, tls_version=None):
    """GET https://<host><path> through 127.0.0.1:<port>, SNI and Host = host, verified by `ca`."""
    headers = {"Host": host}
    if auth:
        import base64
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    if tls:
        ctx = ssl.create_default_context(cafile=str(ca))
        if tls_version:
            ctx.minimum_version = ctx.maximum_version = tls_version
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock = ctx.wrap_socket(raw, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.sock = sock
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _routes(dynamic):
    """(router, host) of every router with a Host rule."""
    out = []
    for name, r in dynamic["http"]["routers"].items():
        m = re.fullmatch(r"Host\(`([^`]+)`\)", r["rule"])
        assert m, r["rule"]
        out.append((name, m.group(1)))
    return out


def test_every_route_reaches_its_backend_over_https_with_the_programs_certificate(traefik):
    routes = [(n, h) for n, h in _routes(traefik["dynamic"]) if n != "dashboard"]
    assert len(routes) >= 10
    for name, host in routes:
        status, headers, body = request(traefik["ports"]["websecure"], host, "/probe", ca=traefik["ca"])
        assert status == 200, (name, status, body[:200])
        seen = json.loads(body)
        assert seen == {"service": traefik["dynamic"]["http"]["routers"][name]["service"], "host": host,
                        "proto": "https", "path": "/probe"}, name
        # secure-headers, as the program declares them.
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", name
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "SAMEORIGIN"


def test_unknown_host_is_not_routed(traefik):
    status, _, _ = request(traefik["ports"]["websecure"], "nosuch.it-stack.lab", ca=traefik["ca"])
    assert status == 404


def host_of(dynamic, router):
    return dict(_routes(dynamic))[router]


def test_tls_below_1_2_is_refused(traefik):
    host = host_of(traefik["dynamic"], "nextcloud")
    ok, _, _ = request(traefik["ports"]["websecure"], host, ca=traefik["ca"],
                       tls_version=ssl.TLSVersion.TLSv1_2)
    assert ok == 200
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", traefik["ports"]["websecure"]), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname=host)


def test_http_redirects_permanently_to_https(traefik):
    host = host_of(traefik["dynamic"], "nextcloud")
    status, headers, _ = request(traefik["ports"]["web"], host, "/index.php?x=1", tls=False)
    assert status == 301  # `permanent: true`: Traefik answers 301 to GET (308 to other methods)
    # The program redirects to the HTTPS port browsers reach: in dev the published one (":10443",
    # kept as the program wrote it, since it names the host's port, not Traefik's own); with the
    # entry point's name, Traefik uses that entry point's port.
    target = json.loads(traefik["uploads"]["/etc/traefik/traefik.yml"])["entryPoints"]["web"]["http"][
        "redirections"]["entryPoint"]["to"]
    port = target[1:] if target.startswith(":") else traefik["ports"][target]
    assert target == ":10443"
    assert headers["location"] == f"https://{host}:{port}/index.php?x=1"


def test_dashboard_requires_the_bcrypt_password(traefik):
    port, ca, host = traefik["ports"]["websecure"], traefik["ca"], "proxy.it-stack.lab"
    status, headers, _ = request(port, host, "/dashboard/", ca=ca)
    assert status == 401 and headers["www-authenticate"].startswith("Basic ")
    status, _, _ = request(port, host, "/dashboard/", ca=ca, auth=("admin", "wrong-" + traefik["password"]))
    assert status == 401
    status, _, body = request(port, host, "/api/overview", ca=ca, auth=("admin", traefik["password"]))
    assert status == 200 and "http" in json.loads(body)
    status, _, _ = request(port, host, "/api/overview", ca=ca)
    assert status == 401
    # The dashboard's HTML/JS is built with Node in Traefik's release process and is not in the Go
    # module (webui/static holds only a placeholder), so this build answers 404 behind the auth.
    status, _, _ = request(port, host, "/dashboard/", ca=ca, auth=("admin", traefik["password"]))
    assert status == 404


def test_every_router_of_the_program_is_enabled(traefik):
    """Traefik's API reports each router it loaded from the program's dynamic config, with errors."""
    status, _, body = request(traefik["ports"]["websecure"], "proxy.it-stack.lab", "/api/http/routers?per_page=200",
                              ca=traefik["ca"], auth=("admin", traefik["password"]))
    assert status == 200
    loaded = {r["name"]: r for r in json.loads(body)}
    for name in traefik["dynamic"]["http"]["routers"]:
        r = loaded[f"{name}@file"]
        assert r["status"] == "enabled" and not r.get("error"), r
    log = traefik["log"].read_text()
    assert '"level":"error"' not in log.lower() and " ERR " not in log, log[-3000:]


# --- the access log, shipped by Docker's gelf driver as the program configures it ------------

def _gelf_messages(sock, until, want):
    found = []
    chunks: dict[bytes, dict[int, bytes]] = {}
    while time.time() < until:
        sock.settimeout(max(0.1, until - time.time()))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        if data[:2] == b"\x1e\x0f":  # chunked GELF
            mid, seq, count = data[2:10], data[10], data[11]
            chunks.setdefault(mid, {})[seq] = data[12:]
            if len(chunks[mid]) < count:
                continue
            data = b"".join(chunks.pop(mid)[i] for i in range(count))
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:1] == b"\x78":
            data = zlib.decompress(data)
        msg = json.loads(data)
        found.append(msg)
        if want(msg):
            return found, msg
    return found, None


def test_access_log_reaches_a_gelf_listener(program, uploads, certs, backends, tmp_path):
    c = program.container(CONTAINER).inputs
    assert c["logDriver"] == "gelf" and c["logOpts"]["tag"] == "traefik"
    assert re.fullmatch(r"udp://127\.0\.0\.1:\d+", c["logOpts"]["gelf-address"]), c["logOpts"]
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    gelf_port = listener.getsockname()[1]
    ports, _ = configure(program, uploads, certs, backends, tmp_path, keep_paths=True)
    host = host_of(json.loads(uploads["/etc/traefik/dynamic.yml"]), "nextcloud")
    for f in (tmp_path, tmp_path / "certs"):
        os.chmod(f, 0o755)
    name = unique("itstack-peer-traefik")
    log_opts = {**c["logOpts"], "gelf-address": f"udp://127.0.0.1:{gelf_port}"}
    try:
        docker("run", "-d", "--name", name, "--network", "host", "--log-driver", c["logDriver"],
               *sum((["--log-opt", f"{k}={v}"] for k, v in sorted(log_opts.items())), []),
               "-v", f"{TRAEFIK}:/usr/local/bin/traefik:ro", "-v", f"{tmp_path}:/etc/traefik:ro",
               local_image("debian-base"), *c["command"])
        deadline = time.time() + 60
        while True:
            try:
                status, _, _ = request(ports["websecure"], host, "/gelf-probe", ca=certs / "ca.crt")
                if status == 200:
                    break
            except OSError:
                pass
            state = docker("inspect", "-f", "{{.State.Running}}", name, check=False).stdout.strip()
            assert state == "true", f"traefik container stopped: {docker('logs', name, check=False).stderr[-2000:]}"
            assert time.time() < deadline, "traefik in the container never served the route"
            time.sleep(0.5)
        found, msg = _gelf_messages(listener, time.time() + 20,
                                    lambda m: '"RequestPath":"/gelf-probe"' in m.get("short_message", "").replace(" ", ""))
        assert msg is not None, f"no access-log line for /gelf-probe among {len(found)} GELF messages"
        entry = json.loads(msg["short_message"])
        assert entry["RequestHost"] == host and entry["DownstreamStatus"] == 200
        assert entry["RouterName"] == "nextcloud@file" and entry["entryPointName"] == "websecure"
        assert msg["_tag"] == "traefik" and msg["version"] == "1.1"
    finally:
        docker("rm", "-f", "-v", name, check=False)
        listener.close()
