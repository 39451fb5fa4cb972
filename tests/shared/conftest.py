"""A real S3-protocol server on loopback (moto's), and "laptops": processes with their own
local caches of one bucket."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

BUCKET = "team-bucket"


class S3:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, self.port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{self.port}"
        self.url = f"s3://{BUCKET}/hitnb"
        self.env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "FSSPEC_S3_ENDPOINT_URL": self.endpoint,
        }

    def fs(self):  # a fresh client, as another machine would have
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        return s3fs.S3FileSystem(endpoint_url=self.endpoint, key="testing", secret="testing")

    def reset(self) -> None:
        """Empty the server (moto keeps its state per process) and make the bucket."""
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        )
        self.fs().mkdir(BUCKET)

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.reset()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    import fsspec.config
    import s3fs

    server = S3()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    # fsspec read FSSPEC_* once, at import: give this process the new endpoint as well
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": server.endpoint})
    s3fs.S3FileSystem.clear_instance_cache()
    server.reset()
    try:
        yield server
    finally:
        server.stop()
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()


def laptop(s3: S3, cache: Path, code: str, *, env: dict[str, str] | None = None) -> str:
    """Run code in a process of its own whose store is the bucket, cached in ``cache``."""
    full = {
        **os.environ, **s3.env, "HITNB_STORE": s3.url, "HITNB_CACHE": str(cache),
        **(env or {}),
    }  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr
