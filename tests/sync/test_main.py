"""The service's configuration (itstack_sync/__main__.py): a flow exists only when both its apps
are configured, and every credential is read from a file, never from an environment value."""
import pytest

from itstack_sync import __main__ as main
from itstack_sync import flows as F


@pytest.fixture
def env(monkeypatch, tmp_path):
    def secret(name, value):
        p = tmp_path / name.lower()
        p.write_text(value + "\n")
        monkeypatch.setenv(f"ITSTACK_SYNC_{name}_FILE", str(p))
    for k in list(__import__("os").environ):
        if k.startswith("ITSTACK_SYNC_"):
            monkeypatch.delenv(k)
    return monkeypatch, secret


def test_flows_follow_the_configured_apps(env, store):
    mp, secret = env
    mp.setenv("ITSTACK_SYNC_SUITECRM_URL", "http://127.0.0.1:9")
    mp.setenv("ITSTACK_SYNC_SUITECRM_CLIENT_ID", "sync")
    secret("SUITECRM_SECRET", "crm-secret")
    assert [f.name for f in main.build(store)] == []          # one app alone: no flow
    mp.setenv("ITSTACK_SYNC_ODOO_URL", "http://127.0.0.1:9")
    mp.setenv("ITSTACK_SYNC_ODOO_DB", "odoo")
    mp.setenv("ITSTACK_SYNC_ODOO_USER", "sync")
    secret("ODOO_PASSWORD", "odoo-secret")
    flows = main.build(store)
    assert [f.name for f in flows] == [F.CustomersFlow.name]
    # the secret came from the file, trimmed; the environment holds only the file's path
    assert flows[0].b.odoo._password == "odoo-secret"
    mp.setenv("ITSTACK_SYNC_AMI_HOST", "127.0.0.1")
    mp.setenv("ITSTACK_SYNC_ZAMMAD_URL", "http://127.0.0.1:9")
    secret("ZAMMAD_TOKEN", "zammad-token")
    names = {f.name for f in main.build(store)}
    assert {F.CallLogFlow.name, F.MissedCallsFlow.name, F.CustomersFlow.name} <= names
    assert F.IncidentsFlow.name not in names                   # GLPI is not configured


def test_a_secret_given_as_a_plain_variable_is_not_read(env, store):
    mp, secret = env
    mp.setenv("ITSTACK_SYNC_SUITECRM_URL", "http://127.0.0.1:9")
    mp.setenv("ITSTACK_SYNC_SUITECRM_CLIENT_ID", "sync")
    mp.setenv("ITSTACK_SYNC_SUITECRM_SECRET", "plain-value")
    with pytest.raises(KeyError, match="ITSTACK_SYNC_SUITECRM_SECRET_FILE"):
        main.build(store)
