"""``scancar demo`` checks its port before doing anything, and that the server answering
there is its own backend."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scancar.cli.demo import Backend, DemoError
from tests.integration.cli.support import one_line_error, run_cli


def test_demo_port_in_use_is_one_line_before_anything(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("demo", "--no-serve", "--port", str(port), cwd=tmp_path)
    message = one_line_error(result, 1)
    assert message.startswith(f"port {port} on 127.0.0.1 is not free")
    assert not (tmp_path / "demo").exists()


class _Impostor(BaseHTTPRequestHandler):
    """Says it is healthy, refuses every token: another program on the demo's port."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 401)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_demo_refuses_a_server_that_is_not_its_own(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        backend = Backend({}, f"http://127.0.0.1:{port}", "scd_demo-token")
        with pytest.raises(DemoError) as err:
            backend._check_it_is_ours(tmp_path / "backend.log")
    finally:
        server.shutdown()
        server.server_close()
    assert str(err.value).startswith(
        f"another server answers on http://127.0.0.1:{port}, not the demo's backend"
    )


def test_demo_has_a_login_for_every_role_and_prints_each_page_login():
    """Every user role has a demo user (the control room had none; a walker had to make one),
    and the lines printed after the summary give the login of every role with pages."""
    from api.auth.principal import USER_ROLES, Role
    from scancar.cli.demo import DEMO_USERS, login_lines

    assert {role for _, role, _ in DEMO_USERS} == {r.value for r in USER_ROLES}
    url = "http://127.0.0.1:1"
    summary = {
        "backend": url,
        "review_page": f"{url}/ui/queue",
        "permit_desk": f"{url}/ui/vergunningen",
        "residents_portal": f"{url}/mijn/",
    }
    printed = "\n".join(login_lines(summary))
    for name, role, password in DEMO_USERS:
        if role != Role.PROVIDER:  # the provider only uses the API
            assert f"{name} / {password}" in printed, role
    assert f"{url}/ui/meldkamer" in printed
