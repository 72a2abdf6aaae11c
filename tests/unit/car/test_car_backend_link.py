"""The start-up call to the backend: a refusal (token, wrong URL) is told apart from an
unreachable backend, and the message names the token's file, never the token."""

from __future__ import annotations

import httpx
import pytest

from permits.feed import key_fingerprint
from scancar.car.backend import BackendLink, BackendRefusalError, BackendUnreachableError

KEY = bytes(range(32))
TOKEN = "scd_" + "s3cret" * 7


def _link(handler) -> BackendLink:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return BackendLink(client, "https://backend.example", TOKEN, "/etc/scancar/device-token")


def _key_body() -> dict:
    return {"key_hex": KEY.hex(), "key_id": key_fingerprint(KEY), "rotates_at": None}


@pytest.mark.parametrize(
    ("answer", "error", "needle"),
    [
        (
            httpx.Response(401, json={"detail": "unknown token", "code": "unauthorized"}),
            BackendRefusalError,
            "refused the device token from /etc/scancar/device-token",
        ),
        (httpx.Response(403, json={"detail": "revoked"}), BackendRefusalError, "revoked"),
        (
            httpx.Response(404, text="<html>nginx</html>"),
            BackendRefusalError,
            "does not point at a scancar backend",
        ),
        (
            httpx.Response(200, text="<html>login</html>"),
            BackendRefusalError,
            "did not answer JSON",
        ),
        (
            httpx.Response(200, json={"key_hex": "00" * 32, "key_id": "x"}),
            BackendRefusalError,
            "does not match its key id",
        ),
        (httpx.Response(503), BackendUnreachableError, "HTTP 503"),
        (httpx.ConnectError("refused"), BackendUnreachableError, "ConnectError"),
    ],
)
def test_backend_link_classifies_failures(answer, error, needle):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(error) as err:
        _link(handler).plate_key()
    assert needle in str(err.value)
    assert TOKEN not in str(err.value)
    assert "\n" not in str(err.value)


def test_backend_link_plate_key_kept_out_of_repr():
    key = _link(lambda _: httpx.Response(200, json=_key_body())).plate_key()
    assert key.key == KEY
    assert KEY.hex() not in repr(key)
    assert str(list(KEY)) not in repr(key)
