"""Where attachment files live: a folder per company on local disk (ATTACHMENTS_DIR, outside
the web root: nothing serves it but the attachment views), or an S3-compatible bucket when
ATTACHMENTS_S3_BUCKET is set. Keys are made here: ``<tenant>/<request>/<random hex>``.

Both copy a file in chunks (nothing holds a whole file in memory) and answer a download as an
iterator of chunks. Neither knows about rows or transactions: ``app.attachments.lifecycle``
decides when a file is removed.
"""

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import current_app

CHUNK = 64 * 1024
_KEY = re.compile(r"^[0-9]+/[0-9]+/[0-9a-f]{32}(\.thumb)?$")


def new_key(tenant_id: int, request_id: int) -> str:
    return f"{int(tenant_id)}/{int(request_id)}/{secrets.token_hex(16)}"


def thumbnail_key(key: str) -> str:
    return f"{key}.thumb"


def tenant_of(key: str) -> int:
    return int(key.split("/", 1)[0])


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class LocalStorage:
    """Files under ``root``/<tenant>/<request>/; written beside their place and renamed into
    it, so a file is either whole or not there."""

    name = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, stream) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def chunks(self, key: str) -> Iterator[bytes]:
        with open(self._path(key), "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def entries(self) -> Iterator[tuple[str, float]]:
        """Every stored file as (key, modified at in epoch seconds), and what an interrupted
        write left (``.part-`` files: names that are no key)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime

    def delete_leftover(self, key: str) -> None:
        """A file under the root that is no key (an interrupted write)."""
        path = (self.root / key).resolve()
        if self.root.resolve() in path.parents:
            path.unlink(missing_ok=True)

    def remove_tenant(self, tenant_id: int) -> None:
        shutil.rmtree(self.root / str(int(tenant_id)), ignore_errors=True)


class _Unclosable:
    def __init__(self, stream):
        self._stream = stream

    def read(self, size=-1):
        return self._stream.read(size)

    def seek(self, offset, whence=0):
        return self._stream.seek(offset, whence)

    def tell(self):
        return self._stream.tell()

    def seekable(self):
        return True

    def close(self):
        pass


class S3Storage:
    """Objects in ``bucket`` under ``prefix``, through boto3 (any S3-compatible service with
    ``endpoint_url``). Uploads go in parts of 8 MB, one at a time (no thread pool holding
    several parts in memory)."""

    name = "s3"

    def __init__(self, bucket: str, prefix: str = "", **client_options):
        import boto3
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", **{k: v for k, v in client_options.items() if v})
        self.transfer = TransferConfig(use_threads=False, multipart_threshold=8 * 1024 * 1024,
                                       multipart_chunksize=8 * 1024 * 1024)

    def _object(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, stream) -> None:
        # s3transfer closes the file it was given once a multipart upload is done: the caller
        # still reads it (a thumbnail), so it gets a view that cannot be closed
        self.client.upload_fileobj(_Unclosable(stream), self.bucket, self._object(key),
                                   Config=self.transfer)

    def chunks(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def _listed(self, prefix: str) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix):], item["LastModified"].timestamp()

    def entries(self) -> Iterator[tuple[str, float]]:
        yield from self._listed("")

    def delete_leftover(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def remove_tenant(self, tenant_id: int) -> None:
        batch = []
        for key, _modified in self._listed(f"{int(tenant_id)}/"):
            batch.append({"Key": self.prefix + key})
            if len(batch) == 1000:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})
                batch = []
        if batch:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})


def from_config(config) -> LocalStorage | S3Storage:
    if config.get("ATTACHMENTS_S3_BUCKET"):
        return S3Storage(
            config["ATTACHMENTS_S3_BUCKET"], config.get("ATTACHMENTS_S3_PREFIX", ""),
            endpoint_url=config.get("ATTACHMENTS_S3_ENDPOINT_URL") or None,
            region_name=config.get("ATTACHMENTS_S3_REGION") or None,
            aws_access_key_id=config.get("ATTACHMENTS_S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("ATTACHMENTS_S3_SECRET_ACCESS_KEY") or None)
    return LocalStorage(config["ATTACHMENTS_DIR"])


def current() -> LocalStorage | S3Storage:
    """The application's storage (made once per app; tests may replace it with ``use``)."""
    found = current_app.extensions.get("attachments_storage")
    if found is None:
        found = current_app.extensions["attachments_storage"] = from_config(current_app.config)
    return found


def use(app, storage) -> None:
    app.extensions["attachments_storage"] = storage
