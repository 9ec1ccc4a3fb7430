"""A real S3 API for tests: moto in server mode on 127.0.0.1, on a free port.

:meth:`MotoS3.start` runs moto in a thread of the test process (fast; the ``s3_server``
fixture). Its state (buckets, IAM users) is global to the process, so every test makes
its own bucket (:meth:`MotoS3.new_bucket`). :meth:`MotoS3.start_process` runs a second,
independent moto in a child process, for tests that need two S3 services that really
hold different buckets (two endpoints side by side).

Moto accepts any credentials by default. Both starters therefore create an IAM user with
an S3 policy and hand out *its* access key, and :meth:`MotoS3.authenticated` switches the
server to checking signatures and permissions (moto's ``reset-auth`` API), so a test can
prove that wrong credentials are refused. Outside that block every request is accepted,
which presigned URLs need (moto's signature check only reads the ``Authorization``
header).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

#: The region moto (and the stages of the tests) use.
REGION = "us-east-1"
USER = "sqla-stage-tests"

_S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Terminate a server's child process, killing it after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class MotoS3:
    """A running moto server: its endpoint, an access key for it, and bucket helpers."""

    endpoint_url: str
    _stop: Callable[[], None]
    key: str = ""
    secret: str = ""

    @classmethod
    def start(cls) -> MotoS3:
        """Start moto in a thread on 127.0.0.1 (the OS picks the port)."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        return cls(f"http://{host}:{port}", server.stop)._with_user()

    @classmethod
    def start_process(cls, timeout: float = 60.0) -> MotoS3:
        """Start an independent moto in a child process on a free port of 127.0.0.1."""
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        moto = cls(f"http://127.0.0.1:{port}", lambda: stop_process(process))
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{moto.endpoint_url}/moto-api/data.json", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    stop_process(process)
                    raise RuntimeError(f"moto did not start on port {port}") from None
                time.sleep(0.1)
        return moto._with_user()

    def _with_user(self) -> MotoS3:
        """Create the IAM user with an S3 policy and take its access key."""
        iam = self.client("iam", key="admin", secret="admin")
        iam.create_user(UserName=USER)
        iam.put_user_policy(
            UserName=USER, PolicyName="s3-all", PolicyDocument=json.dumps(_S3_POLICY)
        )
        access = iam.create_access_key(UserName=USER)["AccessKey"]
        self.key, self.secret = access["AccessKeyId"], access["SecretAccessKey"]
        return self

    def stop(self) -> None:
        """Stop the server."""
        self._stop()

    def client(self, service: str = "s3", key: str | None = None, secret: str | None = None) -> Any:
        """A boto3 client of this server (this server's access key unless given)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=key or self.key,
            aws_secret_access_key=secret or self.secret,
        )

    @property
    def s3(self) -> Any:
        """A boto3 S3 client with this server's access key."""
        return self.client("s3")

    def new_bucket(self, prefix: str = "sqla-stage") -> str:
        """Create a bucket with a unique name and return the name."""
        name = f"{prefix}-{uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=name)
        return name

    def credentials(self, **extra: str) -> dict[str, str]:
        """Stage credentials (the construct's keys) for this server."""
        return {
            "aws_key_id": self.key,
            "aws_secret_key": self.secret,
            "endpoint_url": self.endpoint_url,
            **extra,
        }

    def credentials_sql(self, keyword: str = "CREDENTIALS") -> str:
        """The same credentials as a ``CREDENTIALS = (...)`` clause."""
        return (
            f"{keyword} = (AWS_KEY_ID = '{self.key}' AWS_SECRET_KEY = '{self.secret}' "
            f"ENDPOINT_URL = '{self.endpoint_url}')"
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The object keys in ``bucket`` under ``prefix``, sorted."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def read(self, bucket: str, key: str) -> bytes:
        """The bytes of one object."""
        body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def _reset_auth(self, count: float) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset-auth",
            data=str(count).encode(),
            headers={"Content-Type": "application/octet-stream"},  # not a form: moto reads the body
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    @contextlib.contextmanager
    def authenticated(self) -> Iterator[None]:
        """Within the block the server checks every request's signature and permissions."""
        self._reset_auth(0)
        try:
            yield
        finally:
            self._reset_auth(float("inf"))
