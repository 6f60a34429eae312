"""Profiles one import of ROWS new SKUs in-process with pyinstrument (imports-100k.txt).

    DATABASE_STATEMENT_TIMEOUT=0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \
        .venv/bin/python manage.py migrate
    DATABASE_STATEMENT_TIMEOUT=0 DATABASE_URL=… MEDIA_ROOT=/tmp/imports-profile \
        .venv/bin/python manage.py shell -c "exec(open('bench/profiles/imports_profile.py').read())"

Needs `pip install pyinstrument` (bench/requirements.txt). Writes the profile to stdout."""

import io
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from pyinstrument import Profiler

from articurated.context import ActionContext, Source
from imports.services import import_create, import_process

N = int(__import__("os").environ.get("ROWS", "100000"))
buf = io.StringIO()
buf.write("sku,name,description,price,currency,category,active,stock,attributes\n")
for i in range(N):
    buf.write(
        f"PRF-{i},Product {i},Desc {i},{10 + i % 90}.50,USD,Shop / Cat {i % 50},yes,{i % 20},\n"
    )
data = buf.getvalue().encode()
User = get_user_model()
u, _ = User.objects.get_or_create(username="imp-manager", defaults={"is_staff": True})
u.groups.add(Group.objects.get(name="Manager"))
ctx = ActionContext(source=Source.API, ip_address="127.0.0.1", request_id="imp")
imp = import_create(
    file=SimpleUploadedFile("p.csv", data, content_type="text/csv"), actor=u, context=ctx
)
p = Profiler()
p.start()
t = time.time()
st = import_process(import_id=imp.pk)
el = time.time() - t
p.stop()
imp.refresh_from_db()
print(st, imp.created, imp.updated, imp.invalid, round(el, 1), "s", round(N / el), "rows/s")
print(p.output_text(unicode=False, color=False, show_all=False))
