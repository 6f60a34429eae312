"""GET /api/v1/orders/{id}/invoice (API.md): the invoice PDF of an order."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from articurated.api.permissions import ActionPermission
from articurated.api.serializers import ErrorSerializer
from articurated.errors import Conflict
from invoicing.models import InvoiceStatus
from invoicing.selectors import order_invoice_get


class InvoiceNotReady(Conflict):
    code = "INVOICE_NOT_READY"


class PDFRenderer(BaseRenderer):
    """Lets clients ask for `Accept: application/pdf`; the PDF itself is a FileResponse."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class OrderInvoiceApi(APIView):
    permission_classes = [IsAuthenticated, ActionPermission]
    required_permissions = {"get": "invoicing.view_invoice"}
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        operation_id="orders_invoice_retrieve",
        tags=["orders"],
        summary="Download an order's invoice (PDF)",
        description=(
            "The invoice PDF once the background job has generated it. Before that (also "
            "while the order has no invoice because it has not shipped), 409 INVOICE_NOT_READY "
            "with `details.invoice_status` PENDING, FAILED or null."
        ),
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["pdf"],
                description="Optional; the answer is the PDF (errors are JSON).",
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The invoice PDF."
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="INVOICE_NOT_READY",
                examples=[
                    OpenApiExample(
                        "Not generated yet",
                        value={
                            "error": {
                                "code": "INVOICE_NOT_READY",
                                "message": "The invoice of order ORD-2026-000042 is not ready.",
                                "details": {"invoice_status": "PENDING"},
                            }
                        },
                    )
                ],
            ),
        },
    )
    def get(self, request, pk):
        if request.query_params.get("format", "pdf") != "pdf":
            # DRF would pick its JSON renderer for ?format=json, but the answer is a PDF anyway.
            raise serializers.ValidationError({"format": ['Only "pdf" is served here.']})
        order, invoice = order_invoice_get(order_id=pk)
        if invoice is None or invoice.status != InvoiceStatus.GENERATED:
            status = None if invoice is None else str(invoice.status)
            why = "the order has not shipped" if invoice is None else status
            raise InvoiceNotReady(
                f"The invoice of order {order.number} is not ready ({why}).",
                details={"invoice_status": status},
            )
        return FileResponse(
            invoice.pdf.storage.open(invoice.pdf.name, "rb"),
            content_type="application/pdf",
            as_attachment=False,
            filename=f"{invoice.number}.pdf",
        )

    def handle_exception(self, exc):
        # Errors are JSON (API.md) even when the client asked only for application/pdf.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
