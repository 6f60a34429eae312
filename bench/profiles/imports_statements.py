#!/usr/bin/env python
"""Where an import spends its time, statement by statement (imports-500k-mixed.txt).

    .venv/bin/python bench/profiles/imports_statements.py \
        --database-url postgres://postgres@127.0.0.1:5432/postgres > profile.txt

In a scratch database of its own (dropped at the end) it imports the imports scenario's 500k
new rows, then its mixed file (40 % new, 40 % changed, 20 % unchanged, 0.1 % invalid) with
every SQL statement timed (Django's execute wrapper), and prints both runs' totals and the
statements of the mixed run by time. Run it on a quiet machine (`uptime` is printed too)."""

import argparse
import collections
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_imports_profile"


def _scenario():
    """bench/scenarios/imports.py, for its file generator (the same rows as the bench)."""
    spec = importlib.util.spec_from_file_location("scenario", ROOT / "bench/scenarios/imports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_timed(path: Path, manager, statements: dict | None) -> tuple[float, object]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from articurated.context import CLI
    from imports.services import import_create, import_process

    with path.open("rb") as source:
        upload = SimpleUploadedFile(path.name, source.read(), content_type="text/csv")
    imp = import_create(file=upload, actor=manager, context=CLI)

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = statements[re.sub(r"\s+", " ", sql.strip())[:96]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    started = time.monotonic()
    if statements is None:
        import_process(import_id=imp.pk)
    else:
        with connection.execute_wrapper(timed):
            import_process(import_id=imp.pk)
    imp.refresh_from_db()
    return time.monotonic() - started, imp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    import psycopg

    base = args.database_url.rsplit("/", 1)[0]
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    media = Path(tempfile.mkdtemp(prefix="imports-profile-"))
    os.environ.update(
        DATABASE_URL=f"{base}/{DB_NAME}",
        DJANGO_SETTINGS_MODULE="articurated.settings",
        MEDIA_ROOT=str(media),
        DEBUG="false",
        DRAMATIQ_EMBEDDED_WORKER="false",
        IMPORT_MAX_BYTES=str(200 * 1024 * 1024),
    )
    os.environ.pop("BROKER_URL", None)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
        )
        files = _scenario().files_write(media)
        import django

        django.setup()
        from django.contrib.auth.models import Group, User

        manager = User.objects.create_user("profile-manager", is_staff=True)
        manager.groups.add(Group.objects.get(name="Manager"))
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
              f"{os.getloadavg()[0]:.1f} at the start")  # fmt: skip
        seconds, imp = _import_timed(files["big"], manager, None)
        print(f"# 500k new rows: {imp.status} in {seconds:.1f} s (created {imp.created})")
        statements: dict = collections.defaultdict(lambda: [0, 0.0])
        seconds, imp = _import_timed(files["mixed"], manager, statements)
        in_sql = sum(total for _, total in statements.values())
        print(
            f"# 500k mixed rows: {imp.status} in {seconds:.1f} s (created {imp.created}, updated "
            f"{imp.updated}, unchanged {imp.unchanged}, invalid {imp.invalid}); {in_sql:.1f} s "
            f"waiting on SQL, {seconds - in_sql:.1f} s elsewhere (commits, Python)"
        )
        print(f"# load average {os.getloadavg()[0]:.1f} at the end\n")
        print("seconds  calls  statement (first 96 characters)")
        for text, (calls, total) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:20]:
            print(f"{total:7.2f}  {calls:5d}  {text}")
    finally:
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
