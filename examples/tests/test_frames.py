"""Tests are made of asserts; review-lint leaves test paths alone."""

from workerhub.protocol import ReadyPayload


def test_payload_defaults():
    payload = ReadyPayload(pool_name="default")
    assert payload.worker_id is None
