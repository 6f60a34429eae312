#!/usr/bin/env python
"""A grpcurl-style client that knows nothing but the server's address: it learns services and
messages from server reflection and builds requests from the reflected descriptors.

    python scripts/grpc_reflect.py 127.0.0.1:50051 list
    python scripts/grpc_reflect.py 127.0.0.1:50051 describe articurated.payments.v1.PaymentService
    python scripts/grpc_reflect.py 127.0.0.1:50051 call grpc.health.v1.Health/Check -d '{}'
    python scripts/grpc_reflect.py 127.0.0.1:50051 call \\
        articurated.payments.v1.PaymentService/CreatePayment \\
        -H "authorization: Bearer $PAYMENT_SERVICE_TOKEN" -d '{"idempotencyKey": "k1", …}'

Prints the answer as JSON, then its trailing metadata; on an error the status code, message
and google.rpc details. Exit status 0 on OK, 1 otherwise.
"""

import argparse
import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

DETAIL_TYPES = (
    error_details_pb2.BadRequest,
    error_details_pb2.ErrorInfo,
    error_details_pb2.RetryInfo,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("verb", choices=["list", "describe", "call"])
    parser.add_argument("symbol", nargs="?")
    parser.add_argument("-d", "--data", default="{}", help="the request as JSON")
    parser.add_argument("-H", "--header", action="append", default=[], help="'name: value'")
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    channel = grpc.insecure_channel(args.address)
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = descriptor_pool.DescriptorPool(database)
    if args.verb == "list":
        for name in database.get_services():
            print(name)
        return 0
    if args.verb == "describe":
        service = pool.FindServiceByName(args.symbol)
        for method in service.methods:
            print(
                f"rpc {method.name}({method.input_type.full_name}) "
                f"returns ({method.output_type.full_name})"
            )
        return 0

    service_name, method_name = args.symbol.rsplit("/", 1)
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    request = json_format.Parse(args.data, request_class())
    call = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    metadata = [tuple(part.strip() for part in h.split(":", 1)) for h in args.header]
    try:
        response, outcome = call.with_call(request, metadata=metadata, timeout=args.timeout)
    except grpc.RpcError as error:
        print(f"ERROR: {error.code().name}: {error.details()}")
        status = rpc_status.from_call(error)
        for detail in status.details if status else []:
            for kind in DETAIL_TYPES:
                if detail.Is(kind.DESCRIPTOR):
                    unpacked = kind()
                    detail.Unpack(unpacked)
                    print(f"  {kind.DESCRIPTOR.full_name}: {json_format.MessageToJson(unpacked)}")
        return 1
    print(json_format.MessageToJson(response))
    trailers = [(k, v) for k, v in outcome.trailing_metadata() or () if not k.endswith("-bin")]
    if trailers:
        print("trailers: " + json.dumps(dict(trailers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
