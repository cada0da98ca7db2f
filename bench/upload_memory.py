"""What a 5 MB upload costs a worker's memory: the file is streamed to storage, never held.

In a process of its own (so nothing else has touched its memory), the app on a throw-away
SQLite database with the demo data; the upload goes through the real WSGI app
(``app.wsgi_app``) as a server hands it over: the multipart body read from a file on disk as
``wsgi.input``. Measured around the upload, after a small warm-up upload of the same kind:
the growth of the process's peak RSS (VmHWM, reset before the upload through
/proc/self/clear_refs; elsewhere ``ru_maxrss``) and tracemalloc's peak of Python
allocations. Two files: a 5 MB PDF, and a photo (JPEG) of about 5 MB, whose thumbnail is
decoded at a reduced scale.

    .venv/bin/python bench/upload_memory.py          # prints the table's figures as JSON
"""

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 20
BOUNDARY = "----mesa-bench-boundary"


def _body(path: Path, name: str, content_type: str, data_file: Path) -> int:
    """Write a multipart body holding ``data_file`` to ``path``, in chunks; its length."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    with open(path, "wb") as out, open(data_file, "rb") as source:
        out.write(head)
        while chunk := source.read(65536):
            out.write(chunk)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def _pdf(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        out.write(b"%PDF-1.4\n")
        left = size - 9
        while left > 0:
            chunk = os.urandom(min(left, 1 << 20))
            out.write(chunk)
            left -= len(chunk)


def _jpeg(path: Path) -> None:
    from PIL import Image

    noise = Image.frombytes("RGB", (2500, 1900), os.urandom(2500 * 1900 * 3))
    noise.save(path, "JPEG", quality=95)


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> int:
    """Reset the peak RSS (Linux: clear_refs 5) and give the RSS now, in KB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kb("VmRSS")
    except OSError:  # elsewhere: the peak so far (the growth then only shows a new peak)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak() -> int:
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _upload(app, token: str, request_id: int, body: Path, length: int) -> tuple[int, float,
                                                                                float]:
    """(status, RSS peak growth MB, tracemalloc peak MB) of one upload through the WSGI app."""
    statuses = []
    with open(body, "rb") as stream:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": f"/api/v1/requests/{request_id}/attachments",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": stream, "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0), "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": "127.0.0.1",
        }
        rss_before = _reset_peak()
        tracemalloc.start()
        answer = app.wsgi_app(environ, lambda status, headers, *_: statuses.append(status))
        for _ in answer:
            pass
        if hasattr(answer, "close"):
            answer.close()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = _peak()
    return int(statuses[0].split()[0]), (rss_after - rss_before) / 1024, peak / 1024 / 1024


def child() -> dict:
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="mesa-bench-upload-"))
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}",
                      "ATTACHMENTS_DIR": str(work / "files"), "EMBEDDED_TIMERS": False,
                      "PASSWORD_HASH_MEMORY_KIB": 256, "PASSWORD_HASH_TIME_COST": 1,
                      "PASSWORD_HASH_PARALLELISM": 1})
    with app.app_context():
        from flask_migrate import upgrade

        from app.demo import seed

        upgrade()
        seed()
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"email": "ana@acme.test",
                                                "password": "demo1234"}).json["token"]
    category = client.get("/api/v1/categories",
                          headers={"Authorization": f"Bearer {token}"}).json
    category_id = (category["items"] if isinstance(category, dict) else category)[0]["id"]
    filed = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"},
                        json={"title": "Banco de pruebas", "description": "Subida de 5 MB",
                              "category_id": category_id})
    request_id = filed.json["id"]
    results = {}
    for kind, make, content_type in (
            ("pdf", lambda p, n: _pdf(p, n), "application/pdf"),
            ("jpeg", lambda p, _n: _jpeg(p), "image/jpeg")):
        small, big = work / f"small.{kind}", work / f"big.{kind}"
        if kind == "pdf":
            make(small, 64 * 1024)
            make(big, 5 * 1024 * 1024)
        else:
            from PIL import Image

            Image.new("RGB", (64, 48)).save(small, "JPEG")
            make(big, None)
        for data, label in ((small, "warm-up"), (big, "measured")):
            body = work / f"body-{label}.{kind}"
            length = _body(body, f"{label}.{kind}", content_type, data)
            status, rss, peak = _upload(app, token, request_id, body, length)
            if status != 201:
                raise SystemExit(f"upload of {label}.{kind} answered {status}")
        results[kind] = {"file_mb": big.stat().st_size / 1024 / 1024, "rss_mb": rss,
                         "tracemalloc_mb": peak}
    return results


def run() -> dict:
    """The figures, from a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"upload bench failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows(results: dict) -> list[str]:
    lines = []
    for kind, figures in results.items():
        worst = max(figures["rss_mb"], figures["tracemalloc_mb"])
        met = "yes" if worst < TARGET_MB else "**no**"
        lines.append(
            f"| upload of a {figures['file_mb']:.1f} MB {kind.upper()} through the WSGI app: "
            f"worker memory (peak RSS growth / tracemalloc peak) | {figures['rss_mb']:.1f} MB "
            f"| {figures['tracemalloc_mb']:.1f} MB | < {TARGET_MB} MB | {met} |")
    return lines


if __name__ == "__main__":
    if "--child" in sys.argv:
        stdout = sys.stdout
        sys.stdout = io.StringIO()  # the app's logs and migrations stay out of the answer
        try:
            figures = child()
        finally:
            sys.stdout = stdout
        print(json.dumps(figures))
    else:
        print("\n".join(rows(run())))
