"""`make bench` cannot rot: its pieces run here on a tiny dataset with one-second loads. What is
asserted is what they produce (rows, tables, data), never how fast."""

import json
import shutil
import sys
import textwrap
import time
import uuid
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditRecord
from conftest import order_make, requires_postgres
from invoicing.models import Invoice
from orders.models import LineItem, Order

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))

import run  # noqa: E402
from table import format_markdown, format_text  # noqa: E402

GOOD_ROW = {
    "operation": "webhook delivery", "req_s": 120.5, "p50_ms": 3.0, "p95_ms": 9.5,
    "p99_ms": 12.0, "ceiling": "bare POST", "ceiling_req_s": 200.0, "ratio": 0.6,
    "bar": "p95 <= 2000 ms", "pass": True, "notes": "1 round",
}  # fmt: skip
SCENARIOS = {
    "good": f"""
        import json, sys
        out = sys.argv[sys.argv.index("--out") + 1]
        assert sys.argv[sys.argv.index("--database-url") + 1].startswith("postgres://")
        json.dump([{GOOD_ROW!r}], open(out, "w"))
    """,
    "crashes": "raise SystemExit('could not start the receivers')",
    "breaks_contract": """
        import json, sys
        json.dump([{"operation": "x", "req_s": "fast"}], open(sys.argv[-1], "w"))
    """,
    "_helper": "raise SystemExit('files starting with _ are not scenarios')",
}


def test_scenario_rows_merge_into_the_table(tmp_path):
    # given a scenarios folder with a good, a crashing and a contract-breaking script
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name, code in SCENARIOS.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(code))
    args = SimpleNamespace(scenarios_dir=str(folder), scenario_timeout=60)

    # when
    rows = run.run_scenarios("postgres://bench@127.0.0.1:5432/postgres", tmp_path, args)

    # then the good rows come through as written, each failure is one MISS row naming it
    assert [r.operation for r in rows] == [
        "scenario breaks_contract", "scenario crashes", "webhook delivery",
    ]  # fmt: skip
    broken, crashed, good = rows
    assert broken.passed is False and "req_s" in broken.notes
    assert crashed.passed is False and "could not start the receivers" in crashed.notes
    assert (good.req_s, good.p95_ms, good.ratio, good.passed) == (120.5, 9.5, 0.6, True)
    text, markdown = format_text(rows), format_markdown(rows)
    assert text.splitlines()[0].split()[:3] == ["operation", "req/s", "p50"]
    assert "webhook delivery" in text and "60%" in text and "MISS" in text
    assert markdown.count("\n") == len(rows) + 1
    assert "| webhook delivery | 120 | 3.0 | 9.5 | 12.0 | bare POST | 200 | 60% |" in markdown


@requires_postgres()
@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make install adds it as root)"
)
@pytest.mark.django_db(transaction=True)
def test_seed_serve_load_and_table_on_a_tiny_dataset(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "WORKERS", 2)
    # given 50 orders seeded the bench's way
    buffer = StringIO()
    call_command("bench_seed", orders=50, stdout=buffer)
    seed = json.loads(buffer.getvalue())

    # then they look like real use left them: counters continue, audit and history agree
    assert Order.objects.count() == 50 and seed["orders"] == 50
    assert order_make().number.endswith("-000051")
    for order in Order.objects.exclude(number__endswith="-000051"):
        records = AuditRecord.objects.filter(entity_type="ORDER", entity_id=order.pk)
        assert records.count() == order.history.count()
        assert records.order_by("created_at").last().new_state == order.status
        lines = LineItem.objects.filter(order=order)
        assert order.subtotal == sum(line.line_total for line in lines)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, len(numbers) + 1))

    # when the product and the ceiling serve it and wrk loads them for a second each
    url = _database_url()
    database = connection.settings_dict["NAME"]
    run.psql(url, (BENCH / "ceiling" / "tables.sql").read_text(), database=database)
    ids = run._ids_file(url, "SELECT id FROM orders_order", tmp_path, "ids")
    movable = run._ids_file(
        url, "SELECT id, status FROM orders_order WHERE status = 'PENDING_PAYMENT'", tmp_path, "m"
    )
    product = run.Server("product", "articurated.wsgi:application", env=run.product_env(url),
                         cwd=run.ROOT, log_dir=tmp_path)  # fmt: skip
    ceiling_env = {**run.product_env(url), "DJANGO_SETTINGS_MODULE": "bare_project.settings",
                   "PYTHONPATH": str(BENCH / "ceiling")}  # fmt: skip
    ceiling = run.Server("ceiling", "bare_project.wsgi:application", env=ceiling_env,
                         cwd=BENCH / "ceiling", log_dir=tmp_path)  # fmt: skip
    pending_before = Order.objects.filter(status="PENDING_PAYMENT").count()
    common = {"BENCH_TOKEN": seed["token"], "BENCH_IDS": str(ids)}
    try:
        product.wait_ready("/api/v1/health")
        ceiling.wait_ready("/read/x")
        # a warm-up, as the bench does: the first requests of a worker load the code
        run.wrk(ceiling.base, "bare_read", seconds=1, env=common, work_dir=tmp_path)
        run.wrk(product.base, "order_get", seconds=1, env=common, work_dir=tmp_path)
        bare = run.wrk(ceiling.base, "bare_read", seconds=1, env=common, work_dir=tmp_path)
        get = run.wrk(product.base, "order_get", seconds=1, env=common, work_dir=tmp_path)
        state = run.wrk(product.base, "order_state", seconds=2,
                        env={**common, "BENCH_IDS": str(movable)}, work_dir=tmp_path)  # fmt: skip
    finally:
        product.stop()
        ceiling.stop()

    # then every request succeeded, the state changes really happened, and the table says so
    assert bare["requests"] > 0 and get["requests"] > 0 and state["requests"] > 0
    assert (bare["errors"], get["errors"]) == (0, 0)
    moved = pending_before - Order.objects.filter(status="PENDING_PAYMENT").count()
    # (a request still in flight when wrk stops may move one more order than it counted)
    assert pending_before >= moved >= state["requests"] - state["errors"] > 0
    get["paired"] = bare
    rows = run.operation_rows({"ceiling:bare read": [bare], "GET /orders/{id}": [get]})
    row = next(r for r in rows if r.operation == "GET /orders/{id}")
    assert row.ceiling == "bare read" and row.ratio == pytest.approx(get["req_s"] / bare["req_s"])
    assert row.passed == (row.p95_ms <= 25 and row.ratio >= 0.6)
    assert "GET /orders/{id}" in format_text(rows)


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_each_patch_run_is_given_orders_no_other_run_was_given(tmp_path):
    # given orders in every status, as the bench seeds them
    call_command("bench_seed", orders=200, stdout=StringIO())
    movable = dict(
        Order.objects.filter(status__in=["PENDING_PAYMENT", "PAID", "SHIPPED"]).values_list(
            "id", "status"
        )
    )
    assert len(movable) >= 60

    # when three rounds each take the orders of a 2 s warm-up and of an 8 s run
    orders = run.MovableOrders(_database_url(), seconds=3 * (2 + 8), work_dir=tmp_path)
    slices = [_id_status_lines(orders.next_file(seconds)) for _ in range(3) for seconds in (2, 8)]

    # then no order is given to two runs (a run moves its orders: asked again, it would be
    # answered 409), each is one that can move, in its status, and a run gets about four
    # times a warm-up's
    given = [order_id for one in slices for order_id, _ in one]
    assert len(given) == len(set(given)) > 0
    assert all(movable[uuid.UUID(order_id)] == status for one in slices for order_id, status in one)
    for warm_up, measured in zip(slices[0::2], slices[1::2], strict=True):
        assert len(warm_up) > 0 and abs(len(measured) - 4 * len(warm_up)) <= 4
    with pytest.raises(RuntimeError, match="no movable orders left"):
        orders.next_file(8)


def _database_url() -> str:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/"
    return url + db["NAME"]


def _id_status_lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split()) for line in path.read_text().splitlines() if line]


def test_a_list_at_1m_answered_with_errors_does_not_pass():
    # given list runs at 10k, 100k and 1M orders, equally fast
    ok = {"req_s": 100.0, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0, "errors": 0}
    samples = {
        f"scale:{name}:{label}": [dict(ok)]
        for name in ("no filter", "status=PAID")
        for label in ("10k", "100k", "1M")
    }
    big = "list no filter, page 1..5, 1M orders"
    assert {r.operation: r for r in run.scale_rows(samples)}[big].passed is True

    # when the 1M server refused every request (a token of another database, say)
    samples["scale:no filter:1M"] = [{**ok, "errors": 900}]

    # then its row is a miss that says why
    row = {r.operation: r for r in run.scale_rows(samples)}[big]
    assert row.passed is False
    assert "900 errors" in row.notes


def test_a_scenario_stopped_at_its_limit_takes_what_it_started_with_it(tmp_path):
    # given a scenario that starts a server-like child and never finishes
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    pid_file = tmp_path / "child.pid"
    (scenarios / "hangs.py").write_text(
        textwrap.dedent(f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(300)
    """)
    )
    args = SimpleNamespace(scenarios_dir=str(scenarios), scenario_timeout=3)

    # when make bench runs it
    [row] = run.run_scenarios("postgres://127.0.0.1:1/x", tmp_path, args)

    # then the scenario is a MISS saying so, and its child did not outlive it
    assert row.passed is False and "timed out after 3 s" in row.notes
    child = int(pid_file.read_text())
    for _ in range(50):  # the orphan is reaped by init shortly after the kill
        if not _running(child):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the scenario's child {child} is still running")


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has stopped running
