"""Helpers for the job tests (the `jobs` fixture, a StubBroker and a real worker, is in the root
conftest). Worker threads use their own database connections, so tests that run jobs need
committed data (transactional_db)."""

import subprocess

import pytest

from conftest import TEST_CONTEXT, order_make


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def ship(order):
    from orders.services import order_ship

    return order_ship(
        order_id=order.pk,
        actor=None,
        context=TEST_CONTEXT,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )


def shipped_order(**overrides):
    """An order shipped through the real services (its invoice is PENDING and queued)."""
    return ship(order_make("PROCESSING_IN_WAREHOUSE", **overrides))


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
