"""API.md "Imports (CSV)": upload, list, detail, the progress stream, the error CSV, cancel,
and who may do what."""

import json

import pytest
from django.urls import reverse

from imports.models import Import, ImportStatus
from imports.services import import_process
from imports.tests.conftest import csv_file

pytestmark = pytest.mark.django_db
LIST = "/api/v1/imports"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, text: str, **kwargs):
    return client.post(LIST, {"file": csv_file(text, **kwargs)}, format="multipart")


def events(response) -> list[dict]:
    """The SSE events of a stream: [{"id", "event", "data"}]."""
    text = b"".join(response.streaming_content).decode()
    parsed = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            parsed.append({**fields, "data": json.loads(fields["data"])})
    return parsed


def test_a_manager_uploads_a_csv_and_gets_202_with_the_queued_import(api, jobs):
    # when
    response = upload(api["Manager"], "sku,name\nAPI-1,Thing\n")

    # then
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {
        "id", "status", "filename", "size_bytes", "total_rows", "processed_rows", "percent",
        "created", "updated", "unchanged", "invalid", "rows_per_second", "error", "errors_url",
        "created_at", "started_at", "finished_at",
    }  # fmt: skip
    assert body["status"] == "QUEUED"
    assert body["filename"] == "skus.csv"
    assert body["size_bytes"] == len(b"sku,name\nAPI-1,Thing\n")
    assert body["errors_url"].endswith(f"/api/v1/imports/{body['id']}/errors")
    assert Import.objects.get(pk=body["id"]).file.read() == b"sku,name\nAPI-1,Thing\n"


def test_a_file_without_a_sku_column_is_400_and_writes_nothing(api):
    response = upload(api["Manager"], "code,name\nX,Y\n")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "sku" in response.json()["error"]["details"]["file"][0]
    assert not Import.objects.exists()


def test_no_file_is_400(api):
    response = api["Manager"].post(LIST, {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": ["No file was sent."]}


def test_a_file_over_the_limit_is_413_and_writes_nothing(api, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = upload(api["Manager"], "sku,name\n" + "LONG-ROW,x\n" * 20)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "REQUEST_TOO_LARGE"
    assert not Import.objects.exists()


@pytest.mark.parametrize("role", ["Warehouse", "Support", "Integrator"])
def test_only_managers_use_imports(api, role, run_import):
    imp = run_import("sku,name\nROLE-1,x\n")
    client = api[role]

    assert upload(client, "sku\nX\n").status_code == 403
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}/{imp.pk}").status_code == 403
    assert client.get(f"{LIST}/{imp.pk}/errors").status_code == 403
    assert client.get(f"{LIST}/{imp.pk}/events").status_code == 403
    response = client.post(f"{LIST}/{imp.pk}/cancel")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_anonymous_is_401(client):
    assert client.get(LIST).status_code == 401


def test_list_is_newest_first_and_detail_shows_progress(api, run_import):
    first = run_import("sku,name\nL-1,x\n")
    second = run_import("sku,name\nL-2,x\nbad code,y\n")

    listed = api["Manager"].get(LIST).json()
    assert [row["id"] for row in listed["results"]] == [str(second.pk), str(first.pk)]
    detail = api["Manager"].get(f"{LIST}/{second.pk}/").json()
    assert detail["status"] == "COMPLETED"
    assert (detail["total_rows"], detail["processed_rows"], detail["percent"]) == (2, 2, 100.0)
    assert (detail["created"], detail["invalid"]) == (1, 1)
    assert detail["started_at"] and detail["finished_at"]
    assert isinstance(detail["rows_per_second"], float)


def test_errors_are_downloadable_as_csv(api, run_import):
    imp = run_import('sku,name,price\nE-1,x,cheap\n"bad, code",y,1\n')

    response = api["Manager"].get(f"{LIST}/{imp.pk}/errors")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0] == "row,column,value,message"
    assert text.splitlines()[1].startswith("2,price,cheap,")
    assert text.splitlines()[2].startswith('3,sku,"bad, code",')


def test_unknown_import_is_404_with_the_error_body(api):
    response = api["Manager"].get(f"{LIST}/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_cancel_is_200_then_409_import_finished(api, jobs):
    imp_id = upload(api["Manager"], "sku,name\nCAN-1,x\n").json()["id"]

    response = api["Manager"].post(f"{LIST}/{imp_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    import_process(import_id=imp_id)  # the job finds it cancelled and does nothing
    assert Import.objects.get(pk=imp_id).status == ImportStatus.CANCELLED

    again = api["Manager"].post(f"{LIST}/{imp_id}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "IMPORT_FINISHED"


def test_the_event_stream_sends_progress_then_the_end_and_closes(api, run_import):
    imp = run_import("sku,name\nSSE-1,x\n")

    response = api["Manager"].get(f"{LIST}/{imp.pk}/events", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    sent = events(response)
    assert [e["event"] for e in sent] == ["progress"]
    assert sent[0]["data"]["status"] == "COMPLETED"
    assert sent[0]["data"]["percent"] == 100.0
    # Re-opened with the last id it saw, the ended stream tells EventSource to stop (204).
    again = api["Manager"].get(
        f"{LIST}/{imp.pk}/events", HTTP_ACCEPT="text/event-stream",
        HTTP_LAST_EVENT_ID=sent[0]["id"],
    )  # fmt: skip
    assert again.status_code == 204


def test_the_event_stream_of_a_running_import_closes_and_resumes(api, jobs, settings):
    settings.IMPORT_EVENTS_STREAM_SECONDS = 0.3
    imp_id = upload(api["Manager"], "sku,name\nRUN-1,x\n").json()["id"]

    # a queued import: one event, then the short stream closes
    first = events(api["Manager"].get(f"{LIST}/{imp_id}/events"))
    assert [e["data"]["status"] for e in first] == ["QUEUED"]
    # re-opened with Last-Event-ID while nothing changed: no event repeated
    quiet = api["Manager"].get(f"{LIST}/{imp_id}/events", HTTP_LAST_EVENT_ID=first[0]["id"])
    assert events(quiet) == []
    # after the import ran: its end
    import_process(import_id=imp_id)
    last = events(api["Manager"].get(f"{LIST}/{imp_id}/events", HTTP_LAST_EVENT_ID=first[0]["id"]))
    assert [e["data"]["status"] for e in last] == ["COMPLETED"]
    assert int(last[0]["id"]) > int(first[0]["id"])


def test_errors_url_is_the_named_route(run_import):
    imp = run_import("sku,name\nURL-1,x\n")
    assert reverse("api:import-errors", kwargs={"pk": imp.pk}) == f"{LIST}/{imp.pk}/errors"
