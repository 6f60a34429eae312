"""REST endpoints of imports (API.md "Imports (CSV)"). Thin: parse, call one service, serialize.

The progress stream (`/events`) is a short-lived Server-Sent Events response: it polls the
import's row (at most 4 times a second), sends an event whenever its revision changes, and
closes after IMPORT_EVENTS_STREAM_SECONDS or when the import ends. EventSource re-opens it with
`Last-Event-ID` (the revision), so a viewer holds a sync worker for seconds, never for the
minutes an import takes, and the same view works under WSGI and ASGI alike.
"""

import csv
import io
import json
import time

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from articurated.api.lookups import UUID_LOOKUP
from articurated.api.parsers import RequestTooLarge
from articurated.api.permissions import ActionPermission
from articurated.api.serializers import ErrorSerializer
from articurated.context import ActionContext, Source
from articurated.errors import NotFound, ValidationFailed
from imports import reading
from imports.models import Import, ImportRowError
from imports.serializers import ImportSerializer, ImportUploadSerializer
from imports.services import import_cancel, import_create

LOOKUP = UUID_LOOKUP


def _context(request) -> ActionContext:
    return ActionContext.from_request(request, source=Source.API)


class _TextRenderer(renderers.BaseRenderer):
    """Lets clients ask for the stream or the CSV; errors are still the JSON error body."""

    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, str)):
            return data
        return json.dumps(data).encode()


class EventStreamRenderer(_TextRenderer):
    media_type = "text/event-stream"
    format = "events"


class CsvRenderer(_TextRenderer):
    media_type = "text/csv"
    format = "csv"


class SizeLimitHandler(FileUploadHandler):
    """Refuses an upload once it passes IMPORT_MAX_BYTES, while it streams in (a body sent
    without Content-Length, or one that lies about it)."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.seen = 0

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.seen > settings.IMPORT_MAX_BYTES:
            raise RequestTooLarge(_too_large())
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_large() -> str:
    return f"The file is larger than IMPORT_MAX_BYTES ({settings.IMPORT_MAX_BYTES} bytes)."


def upload_check(request_meta: dict, upload) -> None:
    """The size and header checks of an upload (API and admin): 413 over the limit, 400
    without a file or without a `sku` column."""
    try:
        length = int(request_meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # The multipart envelope adds a little around the file itself.
    if length > settings.IMPORT_MAX_BYTES + 64 * 1024:
        raise RequestTooLarge(_too_large())
    if upload is None:
        raise ValidationFailed("A CSV file is required.", details={"file": ["No file was sent."]})
    if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
        raise RequestTooLarge(_too_large())
    try:
        upload.seek(0)
        reading.header_read(upload)
    except reading.HeaderInvalid as exc:
        raise ValidationFailed(str(exc), details={"file": [str(exc)]}) from exc
    finally:
        upload.seek(0)


@extend_schema(tags=["imports"])
class ImportViewSet(viewsets.GenericViewSet):
    serializer_class = ImportSerializer
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {
        "list": "imports.view_import",
        "retrieve": "imports.view_import",
        "events": "imports.view_import",
        "errors": "imports.view_import",
        "create": "imports.add_import",
        "cancel": "imports.cancel_import",
    }
    filter_backends = []
    # Only the upload has a body (cancel takes none).
    parser_classes = [MultiPartParser]
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return Import.objects.order_by("-created_at", "-id")

    def _get(self, pk) -> Import:
        imp = Import.objects.filter(pk=pk).first()
        if imp is None:
            raise NotFound(f"No import {pk}.")
        return imp

    def _body(self, imp: Import) -> dict:
        return ImportSerializer(imp, context={"request": self.request}).data

    @extend_schema(summary="List imports, newest first")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        body = ImportSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(body)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportSerializer},
        summary="Upload a CSV of SKUs; it is imported in the background",
    )
    def create(self, request):
        # Before anything reads the body: the limit applies while it streams in.
        request._request.upload_handlers.insert(0, SizeLimitHandler(request._request))
        upload = request.FILES.get("file")
        upload_check(request.META, upload)
        imp = import_create(file=upload, actor=request.user, context=_context(request))
        return Response(self._body(imp), status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="One import and its progress")
    def retrieve(self, request, pk=None):
        return Response(self._body(self._get(pk)))

    @extend_schema(
        request=None,
        responses={200: ImportSerializer, 409: OpenApiResponse(ErrorSerializer, "IMPORT_FINISHED")},
        summary="Cancel an import: it stops at its next batch",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        imp = import_cancel(import_id=pk, actor=request.user, context=_context(request))
        return Response(self._body(imp))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Last-Event-ID", OpenApiTypes.INT, OpenApiParameter.HEADER,
                description="The id of the last event received: resume after it.",
            )
        ],
        responses={(200, "text/event-stream"): OpenApiTypes.STR, 204: None},
        summary="The import's progress as Server-Sent Events (`event: progress`)",
    )  # fmt: skip
    @action(detail=True, methods=["get"], renderer_classes=[EventStreamRenderer,
            renderers.JSONRenderer])  # fmt: skip
    def events(self, request, pk=None):
        imp = self._get(pk)
        last = request.headers.get("Last-Event-ID", "")
        last_revision = int(last) if last.isdigit() else None
        if imp.is_finished and last_revision == imp.revision:
            # Already seen its end: 204 tells EventSource not to reconnect.
            return HttpResponse(status=status.HTTP_204_NO_CONTENT)
        response = StreamingHttpResponse(
            self._stream(imp.pk, last_revision), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response

    def _stream(self, import_id, last_revision):
        yield "retry: 1000\n\n"
        deadline = time.monotonic() + settings.IMPORT_EVENTS_STREAM_SECONDS
        while True:
            imp = Import.objects.filter(pk=import_id).first()
            if imp is None:
                return
            if imp.revision != last_revision:
                last_revision = imp.revision
                data = json.dumps(self._body(imp), separators=(",", ":"))
                yield f"id: {imp.revision}\nevent: progress\ndata: {data}\n\n"
            if imp.is_finished or time.monotonic() > deadline:
                return
            time.sleep(0.25)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="The import's invalid rows as CSV: row,column,value,message",
    )
    @action(detail=True, methods=["get"], renderer_classes=[CsvRenderer, renderers.JSONRenderer])
    def errors(self, request, pk=None):
        imp = self._get(pk)
        response = StreamingHttpResponse(_errors_csv(imp), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-errors.csv"'
        return response


def _errors_csv(imp: Import):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "value", "message"])
    rows = (
        ImportRowError.objects.filter(import_run=imp)
        .order_by("row", "id")
        .values_list("row", "column", "value", "message")
    )
    for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        writer.writerow(row)
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
