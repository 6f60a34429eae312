from django.db import transaction
from django.db.models import F
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from bare_project.models import BareCounter, BareEvent, BareOrder


class BareReadApi(APIView):
    """One SQL statement: one row by primary key."""

    def get(self, request, pk):
        row = BareOrder.objects.values("id", "number", "status", "total_amount", "created_at")
        return Response(row.get(pk=pk))


class BareWriteApi(APIView):
    """SELECT … FOR UPDATE, one UPDATE, one INSERT, in a transaction."""

    def post(self, request, pk):
        with transaction.atomic():
            counter = BareCounter.objects.select_for_update().get(pk=pk)
            BareCounter.objects.filter(pk=pk).update(value=F("value") + 1)
            BareEvent.objects.create(counter_id=pk)
        return Response({"id": pk, "value": counter.value + 1})


urlpatterns = [
    path("read/<uuid:pk>", BareReadApi.as_view()),
    path("write/<int:pk>", BareWriteApi.as_view()),
]
