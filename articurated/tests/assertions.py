"""Assertions any app's tests may use (this bottom layer imports no domain app)."""


def assert_error(response, status: int, code: str) -> dict:
    """The response is `status` with exactly {"error": {"code", "message", "details"}}; returns
    the inner error object."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert sorted(error) == ["code", "details", "message"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error
