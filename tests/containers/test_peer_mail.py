"""The SMTP settings the program gives every application, against a real Postfix + Dovecot
submission service (Debian packages, scripts/peers) standing in for iRedMail's.

From the dev stack under mocks:
  - each service's mailbox comes from the program's own account job (iredmail.ACCOUNT_SCRIPT,
    run here with a `mysql` stand-in that records its SQL): the INSERT's address, {CRYPT} SHA-512
    hash and maildir become Dovecot's passwd-file, which Dovecot reads the way iRedMail's reads
    vmail.mailbox;
  - the mail domain and host name come from the iRedMail container's env;
  - for a few applications, the SMTP host, port, user, password, sender and security are read from
    that application's own container env, in its own variable names, and used with smtplib
    exactly as configured: connect, STARTTLS when the app asks for it, AUTH, send.
Rewritten, and only these: host itstack-dev-iredmail -> 127.0.0.1 and port 587 -> a free loopback
port. The submission service is configured like iRedMail's: TLS before anything (smtpd_tls
security level `encrypt`), AUTH only over TLS through Dovecot, a login may send only as its own
address, delivery over LMTP into Dovecot's maildirs."""
from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from components.communications import iredmail
from harness import evaluate, stack_config

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from peerproc import free_port, start, stop, tail  # noqa: E402

POSTFIX, MASTER, DOVECOT = "/usr/sbin/postfix", "/usr/lib/postfix/sbin/master", "/usr/sbin/dovecot"
IREDMAIL = "itstack-dev-iredmail"


def env_of(program, container: str) -> dict[str, str]:
    return dict(e.split("=", 1) for e in program.container(container).inputs["envs"])


# How each application reads its SMTP settings: env names -> (host, port, user, password, from,
# starttls?). Security is the app's own reading of its value.
APPS = {
    "mattermost": lambda e: (e["MM_EMAILSETTINGS_SMTPSERVER"], e["MM_EMAILSETTINGS_SMTPPORT"],
                             e["MM_EMAILSETTINGS_SMTPUSERNAME"], e["MM_EMAILSETTINGS_SMTPPASSWORD"],
                             e["MM_EMAILSETTINGS_FEEDBACKEMAIL"],
                             {"STARTTLS": True, "TLS": None, "": False}[e["MM_EMAILSETTINGS_CONNECTIONSECURITY"]]),
    "graylog": lambda e: (e["GRAYLOG_TRANSPORT_EMAIL_HOSTNAME"], e["GRAYLOG_TRANSPORT_EMAIL_PORT"],
                          e["GRAYLOG_TRANSPORT_EMAIL_AUTH_USERNAME"], e["GRAYLOG_TRANSPORT_EMAIL_AUTH_PASSWORD"],
                          e["GRAYLOG_TRANSPORT_EMAIL_FROM_EMAIL"],
                          e["GRAYLOG_TRANSPORT_EMAIL_USE_TLS"] == "true" and e["GRAYLOG_TRANSPORT_EMAIL_USE_SSL"] == "false"),
    "taiga-back": lambda e: (e["EMAIL_HOST"], e["EMAIL_PORT"], e["EMAIL_HOST_USER"], e["EMAIL_HOST_PASSWORD"],
                             e["DEFAULT_FROM_EMAIL"], e["EMAIL_USE_TLS"] == "True" and e["EMAIL_USE_SSL"] == "False"),
    "snipeit": lambda e: (e["MAIL_HOST"], e["MAIL_PORT"], e["MAIL_USERNAME"], e["MAIL_PASSWORD"],
                          e["MAIL_FROM_ADDR"], e["MAIL_ENCRYPTION"] == "tls"),
    "freepbx": lambda e: (e["SMTP_HOST"], e["SMTP_PORT"], e["SMTP_USER"], e["SMTP_PASS"], e["SMTP_FROM"],
                          e["SMTP_TLS"] == "TRUE" and e["SMTP_STARTTLS"] == "TRUE"),
    # Nextcloud: no SMTP_SECURE, so Symfony Mailer upgrades with STARTTLS when offered (auto TLS).
    "nextcloud": lambda e: (e["SMTP_HOST"], e["SMTP_PORT"], e["SMTP_NAME"], e["SMTP_PASSWORD"],
                            f"{e['MAIL_FROM_ADDRESS']}@{e['MAIL_DOMAIN']}", "SMTP_SECURE" not in e),
}


@pytest.fixture(scope="module")
def program():
    for tool in (POSTFIX, DOVECOT, "/usr/lib/dovecot/lmtp"):
        assert os.path.exists(tool), f"{tool} missing: run scripts/peers"
    return evaluate("dev", stack_config("dev"))


def _run_account_job(program, service: str, workdir: Path) -> dict:
    """The program's account job for `service`, with a `mysql` that answers the readiness query
    and records the SQL it is given. Returns the mailbox row it inserts."""
    job = program.container(f"{IREDMAIL}-account-{service}").inputs
    assert job["entrypoints"] == ["/bin/bash", "-c"] and job["command"] == [iredmail.ACCOUNT_SCRIPT]
    env = env_of(program, f"{IREDMAIL}-account-{service}")
    bindir = workdir / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "mysql").write_text(
        "#!/bin/sh\n"
        "# records what the account job sends; answers its readiness query like MariaDB would\n"
        "[ \"$MYSQL_PWD\" = \"$VMAIL_DB_ADMIN_PASSWORD\" ] || { echo 'Access denied' >&2; exit 1; }\n"
        "case \" $* \" in *' -u vmailadmin vmail '*) ;; *) echo \"unexpected args: $*\" >&2; exit 1 ;; esac\n"
        "case \"$*\" in *'SELECT domain FROM domain'*) echo \"$MAIL_DOMAIN\"; exit 0 ;; esac\n"
        f"cat >> {workdir}/sql.log\n")
    (bindir / "mysql").chmod(0o755)
    (workdir / "sql.log").unlink(missing_ok=True)
    r = subprocess.run(["/bin/bash", "-c", job["command"][0]], env={**env, "PATH": f"{bindir}:/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    sql = (workdir / "sql.log").read_text()
    m = re.search(r"INSERT INTO mailbox \(([^)]*)\)\s*VALUES \(([^)]*)\)", sql)
    assert m, "the account job inserts no mailbox row"
    cols = [c.strip() for c in m.group(1).split(",")]
    vals = [v.strip().strip("'") for v in re.findall(r"'[^']*'|[^,]+", m.group(2))]
    return dict(zip(cols, vals))


def _write(path: Path, text: str, mode=0o644):
    path.write_text(text)
    path.chmod(mode)


def _wait_port(port, proc, what, log: Path):
    deadline = time.time() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert proc.poll() is None, f"{what} exited: {tail(log)}"
            assert time.time() < deadline, f"{what} does not listen on {port}"
            time.sleep(0.3)


@pytest.fixture(scope="module")
def mailserver(program):
    mail_env = env_of(program, IREDMAIL)
    domain, hostname = mail_env["FIRST_MAIL_DOMAIN"], mail_env["HOSTNAME"]
    # Short paths: Unix socket names are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="itp-mail-"))
    os.chmod(root, 0o755)
    procs = []
    try:
        services = [n for n in APPS if n != "taiga-back"] + ["taiga"]
        rows = {s: _run_account_job(program, s, root) for s in services}
        vmail = root / "vmail"
        vmail.mkdir()
        shutil.chown(vmail, "mail", "mail")
        passwd = "".join(f"{r['username']}:{r['password']}::::{vmail}/{r['maildir']}::\n" for r in rows.values())
        _write(root / "passwd", passwd, 0o640)
        shutil.chown(root / "passwd", "root", "dovecot")

        # TLS key and certificate for the submission service (iRedMail makes a self-signed one too).
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(root / "tls.key"), "-out", str(root / "tls.crt"), "-days", "2",
                        "-subj", f"/CN={hostname}"], check=True, capture_output=True)
        port = free_port()
        pf = root / "postfix"
        pf.mkdir()
        spool = root / "spool"
        spool.mkdir()
        (root / "postfix-data").mkdir()
        shutil.chown(root / "postfix-data", "postfix")
        logins = ", ".join(f"{r['username']}={r['username']}" for r in rows.values())
        _write(pf / "main.cf", f"""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {root}/postfix-data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = {hostname}
mydomain = {domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {domain}
virtual_transport = lmtp:unix:private/dovecot-lmtp
smtpd_tls_cert_file = {root}/tls.crt
smtpd_tls_key_file = {root}/tls.key
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sender_login_maps = inline:{{ {logins} }}
""")
        _write(pf / "master.cf", f"""# submission, as iRedMail's master.cf declares it
127.0.0.1:{port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch,permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
        # `postfix check` makes the queue; the master then runs in the foreground (-d), in the
        # test's process group (`postfix start-fg` lets it detach into a session of its own).
        r = subprocess.run([POSTFIX, "-c", str(pf), "check"], capture_output=True, text=True)
        assert r.returncode == 0, f"postfix check: {r.stderr}{tail(root / 'maillog')}"
        pfx = start([MASTER, "-c", str(pf), "-d"], root / "postfix.out")
        procs.append(pfx)
        deadline = time.time() + 30
        while not (spool / "private").is_dir():
            assert pfx.poll() is None, f"postfix exited: {tail(root / 'postfix.out')}{tail(root / 'maillog')}"
            assert time.time() < deadline, "postfix made no queue"
            time.sleep(0.2)

        dv = root / "dovecot"
        dv.mkdir()
        _write(dv / "dovecot.conf", f"""# Dovecot as iRedMail runs it for Postfix: SASL auth and LMTP delivery, {{CRYPT}} hashes
protocols = lmtp
listen = 127.0.0.1
base_dir = {dv}/run
state_dir = {dv}/state
log_path = {root}/dovecot.log
ssl = no
auth_mechanisms = plain login
first_valid_uid = 8
mail_location = maildir:%h
passdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = uid=mail gid=mail
}}
service auth {{
  unix_listener {spool}/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
service lmtp {{
  unix_listener {spool}/private/dovecot-lmtp {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
""")
        dov = start([DOVECOT, "-F", "-c", str(dv / "dovecot.conf")], root / "dovecot.out")
        procs.append(dov)
        deadline = time.time() + 30
        while not (spool / "private" / "auth").exists():
            assert dov.poll() is None, f"dovecot exited: {tail(root / 'dovecot.out')}"
            assert time.time() < deadline, "dovecot made no auth socket"
            time.sleep(0.2)
        _wait_port(port, pfx, "postfix", root / "maillog")
        yield {"port": port, "rows": rows, "vmail": vmail, "root": root, "domain": domain}
    finally:
        for proc in reversed(procs):
            stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _settings(program, app):
    container = f"itstack-dev-{app}"
    host, port, user, password, sender, starttls = APPS[app](env_of(program, container))
    assert host == IREDMAIL and int(port) == iredmail.SUBMISSION_PORT == 587, (app, host, port)
    return user, password, sender, starttls


def _client(server) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", server["port"], local_hostname="app.it-stack.lab", timeout=15)


def _tls() -> ssl.SSLContext:
    # The apps do not verify iRedMail's self-signed certificate (e.g. Mattermost's
    # SKIPSERVERCERTIFICATEVERIFICATION, FreePBX's SMTP_TLSCERTCHECK=FALSE).
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def _delivered(server, mailbox_row, marker, timeout=30) -> bool:
    box = server["vmail"] / mailbox_row["maildir"] / "new"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if box.is_dir() and any(marker in p.read_text(errors="replace") for p in box.iterdir()):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.parametrize("app", list(APPS))
def test_app_logs_in_and_sends_as_configured(program, mailserver, app):
    user, password, sender, starttls = _settings(program, app)
    service = app.split("-")[0]
    assert user == sender == f"{service}@{mailserver['domain']}", "own mailbox, sent from its own address"
    assert starttls, f"{app} does not ask for STARTTLS on 587"
    marker = uuid.uuid4().hex
    with _client(mailserver) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth"), "AUTH is offered only after TLS"
        smtp.starttls(context=_tls())
        smtp.ehlo()
        assert smtp.has_extn("auth")
        smtp.login(user, password)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, sender, f"itstack peer test {marker}"
        msg.set_content("sent with the SMTP settings the program gives this app")
        smtp.send_message(msg)
    # Delivered into the app's own mailbox (where its bounces and replies land).
    assert _delivered(mailserver, mailserver["rows"][service], marker), tail(mailserver["root"] / "maillog")


def test_another_apps_password_is_refused(program, mailserver):
    user, _, _, _ = _settings(program, "mattermost")
    _, other_password, _, _ = _settings(program, "graylog")
    with _client(mailserver) as smtp:
        smtp.starttls(context=_tls())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(user, other_password)


def test_a_login_cannot_send_as_another_app(program, mailserver):
    user, password, _, _ = _settings(program, "taiga-back")
    _, _, other_sender, _ = _settings(program, "graylog")
    with _client(mailserver) as smtp:
        smtp.starttls(context=_tls())
        smtp.login(user, password)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail(other_sender, [other_sender], f"From: {other_sender}\r\nSubject: spoof\r\n\r\nx\r\n")
        ((code, text),) = refused.value.recipients.values()
        assert code == 553 and b"not owned by user" in text


def test_no_mail_without_tls(program, mailserver):
    _, _, sender, _ = _settings(program, "graylog")
    with _client(mailserver) as smtp:
        code, text = smtp.mail(sender)
        assert code == 530 and b"STARTTLS" in text
