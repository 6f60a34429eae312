"""Output serializers that build their body without DRF's per-request field machinery.

DRF builds a serializer's fields for every serializer instance (ModelSerializer introspects the
model each time) and then walks them through `get_attribute` / `to_representation` for every
object; for a list page of 20 orders with their lines that is most of a request's CPU. A
serializer with this mixin builds a plan once per class from the same fields (so the
serializer's declared fields and Meta.fields stay the one definition, and the OpenAPI document
is unchanged) and then fills each body from the plan:

- a SerializerMethodField calls its method on the current serializer (its context included);
- a nested `many=True` serializer iterates the relation (prefetched by the selector) and uses
  its own class's representation;
- any other field reads its source (dotted sources too) and formats the value with the field's
  own `to_representation`, None staying None, exactly as DRF does.
"""

from django.db.models import Manager
from rest_framework import serializers


def _read(instance, attrs: list[str]):
    for attr in attrs:
        if instance is None:
            return None
        instance = getattr(instance, attr)
    return instance


def _plain(field):
    attrs, to_representation = field.source_attrs, field.to_representation

    def read(serializer, instance):
        value = _read(instance, attrs)
        return None if value is None else to_representation(value)

    return read


def _method(field):
    name = field.method_name

    def read(serializer, instance):
        return getattr(serializer, name)(instance)

    return read


def _many(field):
    attrs, child_class = field.source_attrs, type(field.child)

    def read(serializer, instance):
        rows = _read(instance, attrs)
        rows = rows.all() if isinstance(rows, Manager) else rows
        child = child_class(context=serializer.context)
        return [child.to_representation(row) for row in rows]

    return read


class FastRepresentationMixin:
    """For read-only output serializers whose fields are model fields, method fields and
    nested `many=True` serializers that use this mixin too."""

    def to_representation(self, instance):
        plan = type(self).__dict__.get("_fast_plan")
        if plan is None:
            plan = []
            for name, field in self.fields.items():  # DRF builds them, once per class
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, _method(field)))
                elif isinstance(field, serializers.ListSerializer):
                    assert isinstance(field.child, FastRepresentationMixin), name
                    plan.append((name, _many(field)))
                else:
                    assert not isinstance(field, serializers.BaseSerializer), name
                    plan.append((name, _plain(field)))
            type(self)._fast_plan = plan
        return {name: read(self, instance) for name, read in plan}
