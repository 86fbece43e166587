"""The soak's load: Meta and web-form deliveries, and agents working their leads.

Deliveries go to both Odoo servers from concurrent client threads; a share
of them are sent again (Meta's retries), some to both servers at once. An
answer other than the expected success is redelivered later, as Meta does,
until it is accepted. Every attempt is kept in the ledger for the checks.
"""
import hashlib
import hmac
import json
import random
import threading
import time
import uuid

import requests

from graph import leadgen_person

KINDS = (("whatsapp", 0.5), ("messenger", 0.2), ("leadads", 0.15), ("form", 0.15))
PEOPLE = {"whatsapp": 60, "messenger": 30, "leadads": 30, "form": 30}
OK = {"whatsapp": (200,), "messenger": (200,), "leadads": (200,), "form": (201, 202)}


def compute_signature(secret, body):
    """Meta's X-Hub-Signature-256, written here independently of the addon."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Delivery:
    """One delivery: its body is fixed at creation, so a redelivery is byte-identical."""

    def __init__(self, kind, path, body, headers, external_id, contact):
        self.kind, self.path, self.body, self.headers = kind, path, body, headers
        self.external_id, self.contact = external_id, contact
        self.accepted = False
        self.failures = 0


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        # notified at every answer and at the end of the load: the fault
        # schedule waits for the load's progress, not for the clock
        self.progress = threading.Condition(self.lock)
        self.finished = False
        self.attempts = []  # (start, server, kind, status, seconds, duplicate)
        self.deliveries = []
        self.accepted = []
        self.retry = []  # (not before, delivery)
        self.agent = []  # (start, server, action, ok, error, end)

    def record(self, start, server, delivery, status, seconds, duplicate):
        with self.lock:
            self.attempts.append((start, server, delivery.kind, status, seconds, duplicate))
            if status in OK[delivery.kind]:
                if not delivery.accepted:
                    delivery.accepted = True
                    self.accepted.append(delivery)
            else:
                delivery.failures += 1
                delay = min(10.0, 0.5 * 2 ** min(delivery.failures, 5))
                self.retry.append((time.time() + delay, delivery))
            self.progress.notify_all()

    def wait_for_next_answer(self):
        """Block until one more request is answered, or the load ended."""
        with self.progress:
            count = len(self.attempts) + 1
            self.progress.wait_for(lambda: self.finished or len(self.attempts) >= count)

    def wait_for_requests(self, count):
        """Block until ``count`` requests were answered or the load ended."""
        with self.progress:
            self.progress.wait_for(lambda: self.finished or len(self.attempts) >= count)

    def finish(self):
        with self.progress:
            self.finished = True
            self.progress.notify_all()

    def due_retry(self, force=False):
        """A refused delivery whose backoff has passed (with ``force``: the
        one due first, backoff or not)."""
        with self.lock:
            now = time.time()
            for i, (when, delivery) in enumerate(self.retry):
                if when <= now:
                    del self.retry[i]
                    return delivery
            if force and self.retry:
                i = min(range(len(self.retry)), key=lambda j: self.retry[j][0])
                return self.retry.pop(i)[1]
        return None

    def pending(self):
        with self.lock:
            return [d for _w, d in self.retry if not d.accepted]


class Builder:
    """Deliveries in Meta's and the form's own shapes, signed like Meta signs them."""

    def __init__(self, channels, app_secret):
        self.channels, self.app_secret = channels, app_secret
        self.counter = 0
        self.lock = threading.Lock()

    def _next(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def _meta(self, kind, data, external_id, contact):
        body = json.dumps(data).encode()
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": compute_signature(self.app_secret, body)}
        return Delivery(kind, "/lead_channels/meta/%s" % self.channels[kind]["token"], body, headers,
                        external_id, contact)

    def new(self, kind):
        n, person, now = self._next(), random.randrange(PEOPLE[kind]), int(time.time())
        if kind == "whatsapp":
            wa_id = "6012%07d" % (1000000 + person)
            wamid = "wamid.SOAK-%d-%s" % (n, uuid.uuid4().hex[:8])
            data = {"object": "whatsapp_business_account", "entry": [{"id": "WABA-SOAK", "changes": [{
                "field": "messages", "value": {
                    "messaging_product": "whatsapp", "metadata": {"phone_number_id": "PN-SOAK"},
                    "contacts": [{"profile": {"name": "WA Person %03d" % person}, "wa_id": wa_id}],
                    "messages": [{"from": wa_id, "id": wamid, "timestamp": str(now), "type": "text",
                                  "text": {"body": "Soak message %d: is the unit available?" % n}}]}}]}]}
            return self._meta(kind, data, wamid, wa_id)
        if kind == "messenger":
            psid, mid = "PSID-SOAK-%03d" % person, "m_SOAK-%d-%s" % (n, uuid.uuid4().hex[:8])
            data = {"object": "page", "entry": [{"id": "PAGE-SOAK", "time": now * 1000, "messaging": [{
                "sender": {"id": psid}, "recipient": {"id": "PAGE-SOAK"}, "timestamp": now * 1000,
                "message": {"mid": mid, "text": "Soak %d: price?" % n}}]}]}
            return self._meta(kind, data, mid, psid)
        if kind == "leadads":
            leadgen = "LG-%d-%d" % (person, n)
            data = {"object": "page", "entry": [{"id": "PAGE-SOAK", "time": now, "changes": [{
                "field": "leadgen", "value": {"leadgen_id": leadgen, "page_id": "PAGE-SOAK",
                                              "form_id": "F-SOAK", "created_time": now}}]}]}
            return self._meta(kind, data, leadgen, leadgen_person(leadgen)["phone"])
        phone = "+6017%07d" % (2000000 + person)
        submission = "soak-form-%d-%s" % (n, uuid.uuid4().hex[:8])
        body = json.dumps({"name": "Form Person %03d" % person, "phone": phone, "submission_id": submission,
                           "message": "Soak form %d" % n}).encode()
        return Delivery(kind, "/lead_channels/form/%s" % self.channels["form"]["token"], body,
                        {"Content-Type": "application/json"}, submission, phone)


def send(session, server, delivery, ledger, duplicate=False):
    start = time.time()
    try:
        status = session.post(server.url + delivery.path, data=delivery.body, headers=delivery.headers,
                              timeout=30).status_code
    except requests.RequestException:
        status = 0  # refused or cut: the server was down
    ledger.record(start, server.name, delivery, status, time.time() - start, duplicate)
    return status


def client(servers, builder, ledger, until, budget, paused, pace=None):
    """One sender: new deliveries, duplicates (some to both servers at once)
    and redeliveries; ``budget`` requests at most, until ``until`` at the latest.

    A closed loop: each request leaves when the previous one is answered, so
    the servers' answers pace the load and the number of requests is fixed
    whatever the machine's speed. ``pace(n)``, given by a benchmark
    (``tests/bench/bench_soak.py``), holds the ``n``-th request until its
    slot in a schedule of its own."""
    session = requests.Session()
    rng = random.Random()
    for request in range(budget):
        if pace:
            pace(request)
        if time.time() >= until:
            break
        delivery = ledger.due_retry()
        if delivery:
            send(session, rng.choice(servers), delivery, ledger, duplicate=True)
            continue
        with ledger.lock:
            accepted = list(ledger.accepted[-200:])
        if accepted and rng.random() < 0.2:
            delivery = rng.choice(accepted)
            if rng.random() < 0.35:  # Meta's retry reaches both servers at once
                other = threading.Thread(target=send, args=(requests.Session(), servers[1], delivery, ledger, True))
                other.start()
                send(session, servers[0], delivery, ledger, duplicate=True)
                other.join()
            else:
                send(session, rng.choice(servers), delivery, ledger, duplicate=True)
        else:
            kind = rng.choices([k for k, _w in KINDS], [w for _k, w in KINDS])[0]
            if kind == "leadads" and paused():
                kind = "whatsapp"
            delivery = builder.new(kind)
            with ledger.lock:
                ledger.deliveries.append(delivery)
            send(session, rng.choice(servers), delivery, ledger)


def redeliver_all(servers, ledger, until):
    """After the load: redeliver what was not accepted yet, the longest
    waiting first (both servers are up again: no backoff to wait for)."""
    session = requests.Session()
    while time.time() < until:
        delivery = ledger.due_retry(force=True)
        if delivery:
            send(session, random.choice(servers), delivery, ledger, duplicate=True)
        elif not ledger.pending():
            return True
    return not ledger.pending()
