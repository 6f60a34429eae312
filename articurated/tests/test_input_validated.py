"""input_validated reuses one input serializer per class and thread: each call must answer
exactly as a new serializer would, whatever the calls before it were."""

import pytest
from rest_framework import serializers

from articurated.api.fields import StrictCharField, StrictIntegerField
from articurated.api.serializers import StrictSerializer, input_validated


class LineInput(StrictSerializer):
    sku = StrictCharField(max_length=8)
    quantity = StrictIntegerField(min_value=1)


class BasketInput(StrictSerializer):
    owner = StrictCharField(max_length=20)
    note = StrictCharField(required=False, allow_blank=True, default="")
    lines = LineInput(many=True, allow_empty=False)


def fresh(data):
    """What a new serializer answers: (validated data, None) or (None, errors)."""
    serializer = BasketInput(data=data)
    if serializer.is_valid():
        return serializer.validated_data, None
    return None, serializer.errors


def reused(data):
    try:
        return input_validated(BasketInput, data), None
    except serializers.ValidationError as exc:
        return None, exc.detail


GOOD = {"owner": "ada", "lines": [{"sku": "VASE-01", "quantity": 2}]}
BODIES = [
    GOOD,
    {"owner": "ada", "lines": [{"sku": "VASE-01", "quantity": 0}, {"sku": "TOO-LONG-CODE"}]},
    {"owner": "grace", "note": "gift", "lines": [{"sku": "CUP-12", "quantity": 4}]},
    {"owner": "ada", "lines": [], "colour": "red"},
    {"lines": "not a list"},
    [],
    None,
    GOOD,
]


def test_every_call_answers_as_a_new_serializer_would():
    for body in BODIES:
        expected = fresh(body)
        assert reused(body) == expected, body


def test_a_refused_body_leaves_nothing_for_the_next_call():
    with pytest.raises(serializers.ValidationError):
        input_validated(BasketInput, {"owner": "x" * 30, "lines": [{"sku": "A", "quantity": 1}]})
    assert input_validated(BasketInput, GOOD) == {
        "owner": "ada",
        "note": "",
        "lines": [{"sku": "VASE-01", "quantity": 2}],
    }
