"""Files follow their rows: nothing left by a failed upload or a rolled-back transaction, no
file removed while its row remains, a company's files gone with it, the sweeper; and the same
storage contract on an S3-compatible server (moto's, on loopback)."""

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import select

from app.attachments import cli, service, storage
from app.attachments.models import Attachment
from app.extensions import db
from tests import factories
from tests.attachments.conftest import PDF, jpeg, stored_files
from tests.attachments.helpers import fetch, page_upload, rows


class FailingSecondPut(storage.LocalStorage):
    """Writes half of the second file it is given, then fails (a full disk)."""

    def __init__(self, root):
        super().__init__(root)
        self.puts = 0

    def put(self, key, stream):
        self.puts += 1
        if self.puts == 2:
            class Half:
                def __init__(self):
                    self.sent = False

                def read(self, _size):
                    if self.sent:
                        raise OSError(28, "No space left on device")
                    self.sent = True
                    return stream.read(1000)

            return super().put(key, Half())
        return super().put(key, stream)


def test_a_storage_failure_midway_leaves_nothing(demo, app, browser, tmp_path):
    failing = FailingSecondPut(tmp_path / "files")
    storage.use(app, failing)
    try:
        req = factories.file()
        response = page_upload(browser("ana@acme.test"), req.id, (PDF, "uno.pdf"),
                               (PDF * 100, "dos.pdf"))
        assert response.status_code == 303
        assert failing.puts == 2
        assert rows(req.id) == []
        assert stored_files(failing) == []  # the first removed at rollback, no partial left
    finally:
        app.extensions.pop("attachments_storage", None)


def _upload(req, email="ana@acme.test", data=PDF, name="a.pdf"):
    from werkzeug.datastructures import FileStorage

    person = factories.user(email)
    return service.attach_uploads(person, req, [FileStorage(io.BytesIO(data), name)])


def test_a_transaction_that_fails_after_storing_removes_its_files(demo, app, store):
    req = factories.file()
    with app.test_request_context():
        _upload(req, data=jpeg(), name="foto.jpg")
        assert len(stored_files(store)) == 2  # the file and its thumbnail
        db.session.rollback()
    assert stored_files(store) == [] and rows(req.id) == []


def test_a_committed_upload_keeps_its_files(demo, app, store):
    req = factories.file()
    with app.test_request_context():
        [row] = _upload(req)
        db.session.commit()
    assert stored_files(store) == [row.storage_key]


def test_a_deletion_rolled_back_keeps_row_and_file(demo, app, store):
    req = factories.file()
    with app.test_request_context():
        [row] = _upload(req)
        db.session.commit()
        found = db.session.get(Attachment, row.id)
        service.delete(factories.user("ana@acme.test"), found.request if hasattr(
            found, "request") else req, found)
        assert stored_files(store) == [row.storage_key]  # not before the commit
        db.session.rollback()
    assert len(rows(req.id)) == 1 and stored_files(store) == [row.storage_key]


def test_deleting_a_company_removes_its_files_after_its_rows(demo, app, store):
    from app.tenancy import operators

    acme = factories.file()
    globex = factories.file(requester="pedro@globex.test")
    with app.test_request_context():
        _upload(acme)
        _upload(globex, email="pedro@globex.test")
        db.session.commit()
    globex_tenant = globex.tenant_id
    assert len(stored_files(store)) == 2
    with app.app_context():
        operators.delete_tenant("globex")
    left = stored_files(store)
    assert len(left) == 1 and not left[0].startswith(f"{globex_tenant}/")


def test_the_sweeper_removes_only_files_no_row_names(demo, app, store):
    req = factories.file()
    with app.test_request_context():
        [row] = _upload(req)
        db.session.commit()
    orphan = storage.new_key(req.tenant_id, req.id)
    store.put(orphan, io.BytesIO(b"left by a killed process"))
    leftover = store.root / str(req.tenant_id) / str(req.id) / ".part-abc"
    leftover.write_bytes(b"half")
    old = time.time() - 7200
    for path in (store.root / orphan, leftover):
        os.utime(path, (old, old))
    runner = app.test_cli_runner()
    result = runner.invoke(cli.sweep, ["--dry-run"])
    assert "2 file(s)" in result.output, result.output
    assert len(stored_files(store)) == 3
    result = runner.invoke(cli.sweep, [])
    assert stored_files(store) == [row.storage_key]
    # a young orphan is left alone (its upload may be finishing)
    store.put(storage.new_key(req.tenant_id, req.id), io.BytesIO(b"new"))
    runner.invoke(cli.sweep, [])
    assert len(stored_files(store)) == 2


# --- S3-compatible storage ---------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3-compatible server as a process of its own on loopback."""
    pytest.importorskip("moto.server")
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto's server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(app, s3_server):
    import boto3

    bucket = f"mesa-{time.time_ns()}"
    options = {"endpoint_url": s3_server, "region_name": "us-east-1",
               "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    boto3.client("s3", **options).create_bucket(Bucket=bucket)
    store = storage.from_config({
        "ATTACHMENTS_S3_BUCKET": bucket, "ATTACHMENTS_S3_PREFIX": "adjuntos",
        "ATTACHMENTS_S3_ENDPOINT_URL": s3_server, "ATTACHMENTS_S3_REGION": "us-east-1",
        "ATTACHMENTS_S3_ACCESS_KEY_ID": "test", "ATTACHMENTS_S3_SECRET_ACCESS_KEY": "test"})
    assert isinstance(store, storage.S3Storage)
    storage.use(app, store)
    yield store
    app.extensions.pop("attachments_storage", None)


def _s3_keys(store) -> list[str]:
    return sorted(key for key, _modified in store.entries())


def test_s3_upload_download_delete(demo, browser, s3):
    req = factories.file()
    ana = browser("ana@acme.test")
    big = b"%PDF-1.4\n" + os.urandom(9 * 1024 * 1024)  # more than one 8 MB part
    assert page_upload(ana, req.id, (big, "grande.pdf"), (jpeg(), "foto.jpg")).status_code \
        == 303
    pdf, photo = rows(req.id)
    assert _s3_keys(s3) == sorted([pdf.storage_key, photo.storage_key, photo.thumbnail_key])
    listed = s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert all(item["Key"].startswith("adjuntos/") for item in listed)
    response = fetch(ana, f"/requests/{req.id}/attachments/{pdf.id}")
    assert response.status_code == 200 and response.data == big
    assert fetch(ana, f"/requests/{req.id}/attachments/{photo.id}/thumbnail").status_code \
        == 200
    ana.post(f"/requests/{req.id}/attachments/{photo.id}/delete")
    assert _s3_keys(s3) == [pdf.storage_key]


def test_s3_refusals_and_rollbacks_leave_nothing(demo, app, browser, s3):
    req = factories.file()
    page_upload(browser("ana@acme.test"), req.id, (PDF, "bueno.pdf"),
                (b"<html><script>x</script>", "foto.jpg"))
    assert _s3_keys(s3) == []
    with app.test_request_context():
        _upload(req)
        assert len(_s3_keys(s3)) == 1
        db.session.rollback()
    assert _s3_keys(s3) == [] and rows(req.id) == []


def test_s3_company_removal_and_sweeper(demo, app, s3):
    req = factories.file()
    with app.test_request_context():
        [row] = _upload(req)
        db.session.commit()
    s3.put(storage.new_key(req.tenant_id, req.id), io.BytesIO(b"orphan"))
    assert cli.orphans(s3, {row.storage_key}, 0) != []
    app.test_cli_runner().invoke(cli.sweep, ["--min-age-minutes", "0"])
    assert _s3_keys(s3) == [row.storage_key]
    s3.remove_tenant(req.tenant_id)
    assert _s3_keys(s3) == []
    assert db.session.scalar(select(Attachment.id)) is not None  # rows are the caller's
