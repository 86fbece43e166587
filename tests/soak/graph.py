"""A local HTTP server on 127.0.0.1 playing Meta's Graph API for the soak.

It answers WhatsApp sends (``POST /<version>/<phone id>/messages``) and Lead
Ads retrievals (``GET /<version>/<leadgen id>``, the form answers derived from
the id, so any server retrieving the same lead gets the same answers). Its
``mode`` switches it to failing: ``"500"`` answers HTTP 500 at once,
``"timeout"`` holds every answer longer than Odoo's Graph timeout (5 s here).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


def leadgen_person(leadgen_id):
    """The person behind a leadgen id ``LG-<person>-<n>``: name, phone, e-mail."""
    person = int(str(leadgen_id).split("-")[1])
    return {"name": "Lead Ads Person %03d" % person, "phone": "+6019%07d" % (3000000 + person),
            "email": "ads.person.%03d@example.com" % person}


class GraphServer:

    def __init__(self, hold_seconds=7.0):
        self.mode = "ok"
        self.hold_seconds = hold_seconds
        self.counts = {"send": 0, "leadgen": 0, "failed": 0}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                mode = server.mode
                if mode == "timeout":
                    server.stopping.wait(server.hold_seconds)
                if mode in ("500", "timeout"):
                    with server.lock:
                        server.counts["failed"] += 1
                    return self._send(500, {"error": {"message": "An unexpected error has occurred.",
                                                      "code": 2}})
                path = urlparse(self.path).path.strip("/").split("/")
                if method == "POST" and path[-1] == "messages":
                    with server.lock:
                        server.counts["send"] += 1
                        n = server.counts["send"]
                    return self._send(200, {"messaging_product": "whatsapp",
                                            "messages": [{"id": "wamid.SOAK-OUT-%d" % n}]})
                if method == "GET" and path[-1].startswith("LG-"):
                    with server.lock:
                        server.counts["leadgen"] += 1
                    person = leadgen_person(path[-1])
                    return self._send(200, {"id": path[-1], "created_time": "2026-11-30T01:00:00+0000",
                                            "ad_id": "AD-SOAK", "ad_name": "Soak campaign", "field_data": [
                                                {"name": "full_name", "values": [person["name"]]},
                                                {"name": "phone_number", "values": [person["phone"]]},
                                                {"name": "email", "values": [person["email"]]}]})
                return self._send(404, {"error": {"message": "Unknown path", "code": 100}})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (its timeout): nothing to answer

            def do_GET(self):  # noqa: N802
                self._answer("GET")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v21.0" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
