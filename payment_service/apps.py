from django.apps import AppConfig


class PaymentServiceConfig(AppConfig):
    """The payment service (PRODUCT.md "Payment service"): its own tables and domain, served
    over gRPC by `manage.py rungrpc`. It knows nothing of orders; the OMS is its client."""

    name = "payment_service"
    verbose_name = "Payment service"
