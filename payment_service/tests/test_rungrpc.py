import os
import signal
import subprocess
import sys

from conftest import ROOT


def test_rungrpc_refuses_production_without_a_real_token():
    env = {k: v for k, v in os.environ.items() if k not in {"PAYMENT_SERVICE_TOKEN", "DEBUG"}}
    env.update(
        ARTICURATED_ENV="production", SECRET_KEY="k" * 50, DEBUG="false",
        BROKER_URL="amqp://guest:guest@127.0.0.1:5672/",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "manage.py", "rungrpc", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Set PAYMENT_SERVICE_TOKEN" in result.stderr


def _children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(child) for child in found.split()}


def test_rungrpc_serves_one_port_from_several_processes_and_stops_them_all():
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # given `rungrpc --processes 2` on a free port
    env = {**os.environ, "GRPC_GRACE_SECONDS": "1"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "rungrpc", "--port", "0", "--processes", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = ""
        while not line.startswith("Payment service listening on "):
            line = server.stdout.readline()
            assert line, "rungrpc exited before listening"
        target = line.split()[-1]

        # when clients connect, then the port answers health from two server processes
        children = _children(server.pid)
        assert len(children) == 2
        for _ in range(4):
            with grpc.insecure_channel(target) as channel:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=10
                )
                assert answer.status == health_pb2.HealthCheckResponse.SERVING

        # when the service is told to stop, then every process stops and it exits cleanly
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        for child in children:
            assert not os.path.exists(f"/proc/{child}") or _zombie(child)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
