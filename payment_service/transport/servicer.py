"""PaymentService over gRPC: each method turns its request into one domain call and the
answer into a message. Errors are raised as PaymentServiceError and turned into statuses by
the interceptor (transport/interceptor.py), which also sets `call_client` for the caller."""

from payment_service import services
from payment_service.transport.convert import payment_message, refund_message
from payment_service.transport.interceptor import call_client
from payment_service_pb import payments_pb2_grpc

REPLAYED = (("idempotent-replayed", "true"),)


def _replay_mark(context, result: services.Result) -> None:
    if result.replayed:
        context.set_trailing_metadata(REPLAYED)


class PaymentServiceServicer(payments_pb2_grpc.PaymentServiceServicer):
    def CreatePayment(self, request, context):
        result = services.payment_create(
            client=call_client.get(),
            idempotency_key=request.idempotency_key,
            amount_minor=request.amount_minor,
            currency=request.currency,
            reference=request.reference,
            description=request.description,
            time_remaining=context.time_remaining,
        )
        _replay_mark(context, result)
        return payment_message(result.answer)

    def GetPayment(self, request, context):
        return payment_message(services.payment_get(payment_id=request.id))

    def RefundPayment(self, request, context):
        result = services.refund_create(
            client=call_client.get(),
            idempotency_key=request.idempotency_key,
            payment_id=request.payment_id,
            amount_minor=request.amount_minor,
            reason=request.reason,
            time_remaining=context.time_remaining,
        )
        _replay_mark(context, result)
        return refund_message(result.answer)

    def GetRefund(self, request, context):
        return refund_message(services.refund_get(refund_id=request.id))
