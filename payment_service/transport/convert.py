"""Domain answers (dicts, see payment_service.services) ↔ protobuf messages."""

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from payment_service_pb import payments_pb2 as pb


def _timestamp(iso: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def payment_message(view: dict) -> pb.Payment:
    return pb.Payment(
        id=view["id"],
        status=pb.PaymentStatus.Value(f"PAYMENT_STATUS_{view['status']}"),
        amount_minor=view["amount_minor"],
        refunded_minor=view["refunded_minor"],
        currency=view["currency"],
        reference=view["reference"],
        created_at=_timestamp(view["created_at"]),
    )


def refund_message(view: dict) -> pb.Refund:
    return pb.Refund(
        id=view["id"],
        payment_id=view["payment_id"],
        status=pb.RefundStatus.Value(f"REFUND_STATUS_{view['status']}"),
        amount_minor=view["amount_minor"],
        reason=view["reason"],
        created_at=_timestamp(view["created_at"]),
    )


def _iso(stamp: Timestamp) -> str:
    return stamp.ToDatetime(tzinfo=UTC).isoformat()


def payment_view_from(message: pb.Payment) -> dict:
    return {
        "id": message.id,
        "status": pb.PaymentStatus.Name(message.status).removeprefix("PAYMENT_STATUS_"),
        "amount_minor": message.amount_minor,
        "refunded_minor": message.refunded_minor,
        "currency": message.currency,
        "reference": message.reference,
        "created_at": _iso(message.created_at),
    }


def refund_view_from(message: pb.Refund) -> dict:
    return {
        "id": message.id,
        "payment_id": message.payment_id,
        "status": pb.RefundStatus.Name(message.status).removeprefix("REFUND_STATUS_"),
        "amount_minor": message.amount_minor,
        "reason": message.reason,
        "created_at": _iso(message.created_at),
    }
