from django.db import models


class BareOrder(models.Model):
    """The product's order table, read-only: the bare read fetches one row by primary key."""

    id = models.UUIDField(primary_key=True)
    number = models.CharField(max_length=20)
    status = models.CharField(max_length=32)
    total_amount = models.DecimalField(max_digits=16, decimal_places=2)
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "orders_order"


class BareCounter(models.Model):
    id = models.IntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        managed = False
        db_table = "bench_bare_counter"


class BareEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    counter_id = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = "bench_bare_event"
