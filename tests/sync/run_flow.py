"""Runs one case's flow once in its own process (the kill-mid-batch tests kill it): argv[1] is
the case's spec as JSON, argv[2] the SQLite state file (or a PostgreSQL DSN as JSON)."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from itstack_sync.engine import Engine  # noqa: E402
from itstack_sync.store import Store  # noqa: E402


def main():
    spec = json.loads(sys.argv[1])
    state = sys.argv[2]
    store = Store.postgres(**json.loads(state)) if state.startswith("{") else Store.sqlite(state)
    if spec["case"] == "customers":
        from sync.test_customers import flow_for
        flow = flow_for(spec["urls"])
    else:
        from sync.cases import BY_NAME
        flow = BY_NAME[spec["case"]].client(store, spec["urls"])
    r = Engine(store).run(flow)
    print(json.dumps({"created": r.created, "error": r.error}))


if __name__ == "__main__":
    main()
