"""A webhook receiver on loopback, for the tests whose webhooks are sent for real
(tests/faults, tests/multinode, tests/services/test_embedded_runner.py). It counts each delivery
key (X-Mesa-Delivery) it gets and keeps each body; given the endpoint's ``secret``, it answers
401 to a body whose X-Mesa-Signature does not verify, and neither counts nor keeps it; and it can
hold the first request open without answering, so a sender can be killed mid-send."""

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.services import webhooks


class Receiver:
    def __init__(self, hold_first: bool = False):
        self.secret: str | None = None     # set it to check each request's signature
        self.hits: Counter = Counter()
        self.bodies: list[dict] = []
        self.peers: list[tuple[str, int]] = []  # (delivery key, the sender's port), in order
        self.held = threading.Event()      # set when the held request has arrived
        self.release = threading.Event()   # set to let the held request's handler end
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.secret is not None and not webhooks.verify(
                        receiver.secret, self.headers["X-Mesa-Signature"], body):
                    self.send_response(401)
                    self.end_headers()
                    return
                key = self.headers["X-Mesa-Delivery"]
                with lock:
                    receiver.hits[key] += 1
                    receiver.bodies.append(json.loads(body))
                    receiver.peers.append((key, self.client_address[1]))
                    hold = hold_first and len(receiver.peers) == 1
                if hold:
                    receiver.held.set()
                    receiver.release.wait(120)
                    return  # no answer: the sender is gone by now
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
