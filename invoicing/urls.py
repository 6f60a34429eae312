from django.urls import re_path

from invoicing.api import OrderInvoiceApi

# Named "order-invoice" in the `api` namespace (articurated/urls.py): api:order-invoice.
urlpatterns = [
    re_path(
        r"^orders/(?P<pk>[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
        r"[0-9a-fA-F]{12})/invoice/?$",
        OrderInvoiceApi.as_view(),
        name="order-invoice",
    ),
]
