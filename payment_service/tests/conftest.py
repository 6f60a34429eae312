"""The payment service's suite runs against a real gRPC server in this process (the session's
`grpc_server`, root conftest). Its threads have their own database connections, hence
committed data (transactional_db) in every test that calls it."""

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from payment_service_pb import payments_pb2 as pb
from payment_service_pb import payments_pb2_grpc

TOKEN = "token-for-tests"


@pytest.fixture(autouse=True)
def _service_settings(settings):
    settings.PAYMENT_SERVICE_TOKEN = TOKEN
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 0
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS = 0


@pytest.fixture
def channel(grpc_server):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_server.port}") as channel:
        yield channel


@pytest.fixture
def stub(channel):
    return payments_pb2_grpc.PaymentServiceStub(channel)


def auth(token: str = TOKEN, **extra) -> tuple:
    return (("authorization", f"Bearer {token}"), *extra.items())


def create_request(key: str = "key-1", **fields) -> pb.CreatePaymentRequest:
    values = {"amount_minor": 10400, "currency": "USD", "reference": "ORD-1", **fields}
    return pb.CreatePaymentRequest(idempotency_key=key, **values)


def status_of(error: grpc.RpcError) -> tuple[grpc.StatusCode, dict]:
    """The code and the google.rpc details of a failed call: {"reason": …, "metadata": …} from
    ErrorInfo, {"violations": {field: description}} from BadRequest, "retry" from RetryInfo."""
    found: dict = {}
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            found |= {"reason": info.reason, "metadata": dict(info.metadata)}
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found["violations"] = {v.field: v.description for v in bad.field_violations}
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            found["retry"] = True
    return error.code(), found
