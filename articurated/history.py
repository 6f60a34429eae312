"""django-simple-history's HistoricalRecords, with the historical row written by one INSERT.

Every audited change of an order, return, category, product or SKU writes its historical row
in the request. The library does that through `getattr(instance, "history")`, whose descriptor
builds a new manager class on every access, and through the historical model's `save()`, whose
INSERT the ORM compiles each time: together about a tenth of a POST /orders. Here the
historical model is read from the descriptor itself and the row is inserted with text fixed
per model (articurated/db.py). Everything else is the library's: the fields copied, the date,
the user (`_history_user` or the request's), the change reason, and the
`pre_create_historical_record` / `post_create_historical_record` signals around the insert.
The historical models' own `save()` has no override and no signal receivers here, so nothing
is skipped.

The historical tables keep one index of the model's: the object's id, by which every history
is read (an order's timeline, the admin's history pages, a SKU's stale-save check). The
library copies every other index of the model too (number, e-mail, tracking number, foreign
keys, ...): nothing reads a history by them, and each would be written on every change."""

import inspect

from django.db import connections, router
from django.utils import timezone
from simple_history import models as simple_history
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from articurated.db import row_insert_returning_rollback_unsafe


class HistoricalRecords(simple_history.HistoricalRecords):
    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields

    def create_historical_record(self, instance, history_type, using=None):
        history_model = inspect.getattr_static(type(instance), self.manager_name).model
        if self.m2m_fields:  # the library's own path, which also writes the m2m history
            super().create_historical_record(instance, history_type, using=using)
            return
        using = using if self.use_base_model_db else None
        history_date = getattr(instance, "_history_date", timezone.now())
        history_user = self.get_history_user(instance)
        history_change_reason = self.get_change_reason_for_object(instance, history_type, using)
        attrs = {
            field.attname: getattr(instance, field.attname)
            for field in self.fields_included(instance)
        }
        if getattr(history_model, "history_relation", None) is not None:
            attrs["history_relation"] = instance
        history_instance = history_model(
            history_date=history_date,
            history_type=history_type,
            history_user=history_user,
            history_change_reason=history_change_reason,
            **attrs,
        )
        signal = {
            "sender": history_model,
            "instance": instance,
            "history_date": history_date,
            "history_user": history_user,
            "history_change_reason": history_change_reason,
            "history_instance": history_instance,
            "using": using,
        }
        pre_create_historical_record.send(**signal)
        alias = using or router.db_for_write(history_model, instance=history_instance)
        row_insert_returning_rollback_unsafe(history_instance, connections[alias])
        post_create_historical_record.send(**signal)
