import subprocess
import sys

from conftest import ROOT


def test_the_committed_generated_code_matches_the_proto():
    # `make proto` regenerates payment_service_pb/; a proto change without it fails here
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "proto_generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
