"""A real S3-compatible server on loopback (moto's), for the object-storage tests: every request
goes over HTTP through pyarrow's S3 client, as on a cluster."""
import socket
from pathlib import Path

import pyarrow.fs as pafs
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "curate-test"


class S3:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        # Spark's keys: what a user puts in spark.conf (or passes with spark-submit --conf).
        self.conf = {"spark.hadoop.fs.s3a.endpoint": endpoint, "spark.hadoop.fs.s3a.access.key": "testing",
                     "spark.hadoop.fs.s3a.secret.key": "testing", "spark.hadoop.fs.s3a.path.style.access": "true",
                     "spark.hadoop.fs.s3a.endpoint.region": "us-east-1"}
        from pipeline.storage import storage_options

        self.options = storage_options(self.conf)

    def filesystem(self) -> pafs.S3FileSystem:
        from pipeline.storage import filesystem

        return filesystem(f"s3://{BUCKET}/", self.options)[0]

    def upload(self, local: Path, key: str) -> str:
        """Copy a local file or directory to s3a://BUCKET/key; returns that URI."""
        if local.is_dir():
            pafs.copy_files(str(local), f"{BUCKET}/{key}", source_filesystem=pafs.LocalFileSystem(),
                            destination_filesystem=self.filesystem())
        else:
            with self.filesystem().open_output_stream(f"{BUCKET}/{key}") as out:
                out.write(local.read_bytes())
        return f"s3a://{BUCKET}/{key}"

    def read(self, uri: str) -> bytes:
        from pipeline.storage import read_bytes

        return read_bytes(uri, self.options)


@pytest.fixture(scope="session")
def s3():
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield S3(endpoint)
    finally:
        server.stop()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh local cache for remote models and tokenizers (pipeline.storage.local_copy)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("CURATE_CACHE_DIR", str(directory))
    return directory
