"""Back-office forms: what each return transition asks for, and opening a return."""

from django import forms
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from orders.models import LineItem
from returns.models import ReturnReason

TRANSITION_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "mark_in_transit": "Mark in transit",
    "receive": "Receive",
    "complete": "Complete",
}


def _text(label: str, *, required: bool = False, max_length: int = 2000, area: bool = True):
    widget = (
        UnfoldAdminTextareaWidget(attrs={"rows": 3, "cols": 60})
        if area
        else UnfoldAdminTextInputWidget
    )
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=widget, strip=True
    )


class TransitionForm(forms.Form):
    """The inputs of one transition, named like the service's keyword arguments."""

    def __init__(self, name: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if name == "approve":
            self.fields["reason"] = _text("Decision reason (optional)")
        elif name == "reject":
            self.fields["reason"] = _text("Decision reason", required=True)
        elif name == "mark_in_transit":
            self.fields["carrier"] = _text("Carrier", max_length=60, area=False)
            self.fields["tracking_number"] = _text("Tracking number", max_length=120, area=False)
        elif name == "receive":
            self.fields["inspection_note"] = _text("Inspection note (optional)")
            self.fields["restock"] = forms.BooleanField(
                label="Put the units back on hand (untick: count them as damaged)",
                required=False,
                initial=True,
            )


class OrderLookupForm(forms.Form):
    order = forms.CharField(
        label="Order number or id",
        max_length=64,
        strip=True,
        widget=UnfoldAdminTextInputWidget,
    )


class OpenReturnForm(forms.Form):
    """Reason, comment and, per order line, how many units come back (all left by default)."""

    reason = forms.ChoiceField(choices=ReturnReason.choices, widget=UnfoldAdminSelectWidget)
    comment = _text("Comment (optional)")

    def __init__(self, lines: list[LineItem], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            left = line.quantity - line.returned_quantity
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=f"{line.sku} · {line.name} ({left} of {line.quantity} left)",
                min_value=0,
                max_value=line.quantity,
                initial=left,
                widget=UnfoldAdminIntegerFieldWidget,
            )

    def items(self) -> list[dict]:
        return [
            {"line_item_id": line.pk, "quantity": quantity}
            for line in self.lines
            if (quantity := self.cleaned_data.get(f"quantity_{line.pk}") or 0) > 0
        ]
