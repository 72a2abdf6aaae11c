"""Start the test OpenID provider (`tests/oidc/provider.mjs`, the `oidc-provider` package from
npm) on a free loopback port for one test. `.ci/run` installs it with `npm ci`; outside CI a
missing install skips the test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
CLIENT_ID = "scancar-portal"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"


@dataclass(frozen=True)
class ProviderAccount:
    login: str
    password: str
    sub: str
    name: str
    email: str = ""


@dataclass
class RunningProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    output: list[str] = field(default_factory=list)


def _need_provider() -> str:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        why = "the test OpenID provider is not installed (npm ci --prefix tests/oidc)"
        if IN_CI:
            pytest.fail(f"CI: {why}")
        pytest.skip(why)
    return node


@contextmanager
def oidc_provider(
    redirect_uris: list[str], accounts: list[ProviderAccount]
) -> Iterator[RunningProvider]:
    """A real OpenID provider on 127.0.0.1 with one confidential client (PKCE required) and
    the given accounts; stopped when the block ends."""
    node = _need_provider()
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "accounts": {
            a.login: {"password": a.password, "sub": a.sub, "name": a.name, "email": a.email}
            for a in accounts
        },
    }
    env = {**os.environ, "OIDC_TEST_CONFIG": json.dumps(config), "NODE_ENV": "test"}
    proc = subprocess.Popen(
        [node, str(HERE / "provider.mjs")],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        issuer = None
        for line in proc.stdout:
            if line.startswith('{"issuer"'):
                issuer = json.loads(line)["issuer"]
                break
        if issuer is None:
            raise AssertionError(f"the test OpenID provider did not start (exit {proc.wait()})")
        running = RunningProvider(issuer)
        # keep reading its output so the pipe never fills up
        reader = threading.Thread(
            target=lambda: running.output.extend(proc.stdout or []), daemon=True
        )
        reader.start()
        yield running
        proc.terminate()
        reader.join(timeout=10)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
