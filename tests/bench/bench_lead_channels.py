#!/usr/bin/env python3
"""Benchmark of lead_channels' WhatsApp webhook against a real multi-worker Odoo.

    python3 tests/bench/bench_lead_channels.py [--db NAME] [--deliveries 2000]
        [--clients 8] [--duplicates 0.2] [--senders 400] [--rate 0] [--timeout 600]
        [--db-filter] [--cron-workers 2] [--shape rounds|spread]

Creates (or reuses) a throwaway database with lead_channels (+ lead_distribution
when installable, with a routing rule and four agents), starts
``odoo -d NAME --workers=2 --max-cron-threads=2`` on 127.0.0.1, sends the deliveries
signed like Meta from concurrent clients (a share of them redelivered), waits
for the triggered cron to drain the inbox and prints:

* deliveries/s and p50/p95 HTTP response time;
* delivery -> lead processed/routed latency (p50/p95), from the inbox row's
  ``received_at`` (request transaction start) to ``processed_at`` (end of the
  processing transaction that creates, routes and notifies);
* the zero-lost / zero-doubled checks: leads == distinct senders, chatter
  messages == distinct wamids, events done == distinct wamids.

Before the measure: lead enrichment (IAP) is set to "on demand" and e-mail
left queued by earlier runs is dropped (nothing can reach Odoo's servers or a
mail server from here), the database is vacuumed and analysed, and WARM_UP new
contacts go through another channel so that the cron workers are warm.

Every wait is bounded (``--timeout``) and the server is stopped at the end.
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import psycopg2
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def addons_path():
    if os.environ.get("ODOO_ADDONS_PATH"):
        return os.environ["ODOO_ADDONS_PATH"]
    import odoo  # only to locate Odoo's own addons

    base = os.path.dirname(odoo.__file__)
    return ",".join([os.path.join(os.path.dirname(base), "addons"), os.path.join(base, "addons"), ROOT])


# new contacts sent (to a channel of their own) before the measure, to warm the cron workers up
WARM_UP = 100

# The prefork server also spawns a gevent process for websockets; the bench
# needs none and a machine without a complete gevent would respawn it in a loop.
BOOT = ("import os, sys; os.environ['TZ'] = 'UTC'; import odoo; from odoo.service import server; "
        "server.PreforkServer.long_polling_spawn = lambda self: None; odoo.cli.main()")


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100.0 * (len(values) - 1))))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed(db, modules):
    try:
        conn = psycopg2.connect(dbname=db)
    except psycopg2.OperationalError:
        return None
    with conn, conn.cursor() as cr:
        cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)", [modules])
        names = {r[0] for r in cr.fetchall()}
    conn.close()
    return names


def offline(db):
    """What an Odoo without internet access needs, done as Settings would:
    lead enrichment on demand only (the IAP job, triggered by every new lead,
    would otherwise try to reach Odoo's servers on a cron worker during the
    burst) and no e-mail left queued from earlier runs (there is no mail
    server here: the mail job would try them all again each run)."""
    conn = psycopg2.connect(dbname=db)
    with conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM ir_module_module WHERE name = 'crm_iap_enrich' AND state = 'installed'")
        if cr.fetchone():
            cr.execute("""
                INSERT INTO ir_config_parameter (key, value, create_date, write_date)
                     VALUES ('crm.iap.lead.enrich.setting', 'manual', now(), now())
                ON CONFLICT (key) DO UPDATE SET value = 'manual'
            """)
            cr.execute("""
                UPDATE ir_cron SET active = false WHERE id = (
                    SELECT res_id FROM ir_model_data
                     WHERE module = 'crm_iap_enrich' AND name = 'ir_cron_lead_enrichment')
            """)
        cr.execute("DELETE FROM mail_mail WHERE state IN ('outgoing', 'exception')")
    conn.close()


def prepare_db(db, timeout):
    names = installed(db, ["lead_channels", "lead_distribution"])
    if names and "lead_channels" in names:
        offline(db)
        return "lead_distribution" in names
    for modules in ("lead_channels,lead_distribution", "lead_channels"):
        print("installing %s into %s ..." % (modules, db), flush=True)
        subprocess.run(["dropdb", "--if-exists", db], check=False)
        proc = subprocess.run(["odoo", "-d", db, "--addons-path", addons_path(), "-i", modules,
                               "--without-demo=all", "--stop-after-init", "--log-level=warn"],
                              capture_output=True, text=True, timeout=timeout)
        names = installed(db, ["lead_channels", "lead_distribution"]) or set()
        if proc.returncode == 0 and "lead_channels" in names:
            offline(db)
            return "lead_distribution" in names
        print(proc.stderr[-2000:], file=sys.stderr)
    raise SystemExit("could not install lead_channels into %s" % db)


class Rpc:
    def __init__(self, url, db):
        self.url, self.db = url, db
        self.uid = self.call("common", "login", db, "admin", "admin")

    def call(self, service, method, *args):
        data = {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"service": service, "method": method, "args": list(args)}}
        answer = requests.post(self.url + "/jsonrpc", json=data, timeout=120).json()
        if answer.get("error"):
            raise RuntimeError(json.dumps(answer["error"])[:2000])
        return answer["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self.call("object", "execute_kw", self.db, self.uid, "admin", model, method, list(args), kwargs)


def setup(rpc, run, with_distribution):
    my = rpc("res.country", "search", [("code", "=", "MY")])[0]
    company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
    rpc("res.company", "write", [company], {"country_id": my})
    team = rpc("crm.team", "create", {"name": "Bench team %s" % run, "use_leads": True})
    secret = uuid.uuid4().hex
    channel = rpc("lead.channel", "create", {
        "name": "Bench WhatsApp %s" % run, "channel_type": "whatsapp", "app_secret": secret,
        "verify_token": "bench", "team_id": team})
    token = rpc("lead.channel", "read", [channel], ["token"])[0]["token"]
    warm = rpc("lead.channel", "create", {
        "name": "Bench warm-up %s" % run, "channel_type": "whatsapp", "app_secret": secret,
        "verify_token": "bench", "team_id": team})
    warm_token = rpc("lead.channel", "read", [warm], ["token"])[0]["token"]
    if with_distribution:
        group = rpc("ir.model.data", "check_object_reference", "sales_team", "group_sale_salesman_all_leads")[1]
        users = [rpc("res.users", "create", {
            "name": "Bench agent %s %s" % (run, i), "login": "bench_%s_%s" % (run, i),
            "email": "bench_%s_%s@example.com" % (run, i), "tz": "UTC",
            "groups_id": [(4, group)]}) for i in range(4)]
        for user in users:
            rpc("crm.team.member", "create", {"crm_team_id": team, "user_id": user})
        rpc("lead.routing.rule", "create", {
            "name": "Bench rule %s" % run, "team_id": team, "strategy": "round_robin",
            "domain": "[('channel_id', 'in', [%d, %d])]" % (channel, warm), "fallback": "user",
            "fallback_user_id": users[0], "sequence": 1})
        rpc("res.company", "write", [company], {"lead_distribution_instant": True})
    return channel, token, secret, warm, warm_token


def build_deliveries(n, dup_share, senders, run_digits, shape="rounds", first=0):
    distinct = int(round(n * (1 - dup_share)))
    numbers = ["6011%02d%06d" % (run_digits, first + i) for i in range(senders)]
    order = [numbers[i % senders] for i in range(distinct)]
    if shape == "spread":
        random.Random(7).shuffle(order)
    originals = []
    for i in range(distinct):
        wa_id = order[i]
        wamid = "wamid.bench.%02d.%06d" % (run_digits, first + i)
        body = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "60380001000", "phone_number_id": "PNID"},
                "contacts": [{"profile": {"name": "Bench %s" % wa_id[-4:]}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time()) + i),
                              "type": "text", "text": {"body": "Salam, harga unit %d? 价格" % i}}]}}]}]}
        originals.append(json.dumps(body, ensure_ascii=False).encode())
    rnd = random.Random(42)
    sequence = list(originals)
    for _i in range(n - distinct):  # Meta's redeliveries, somewhat later than the original
        pos = rnd.randrange(len(sequence))
        sequence.insert(min(len(sequence), pos + rnd.randrange(1, 50)), sequence[pos])
    return sequence, distinct, len(set(order))


def wait_drained(db, channel_id, deadline):
    """Wait until the channel's inbox is processed and its notifications sent."""
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    with conn.cursor() as cr:
        while time.time() < deadline:
            cr.execute("""
                SELECT (SELECT count(*) FROM lead_channel_event WHERE channel_id = %s AND state = 'new')
                     + (SELECT count(*) FROM mail_message_schedule s
                          JOIN lead_channel_event e ON e.posted_message_id = s.mail_message_id
                         WHERE e.channel_id = %s)""", [channel_id, channel_id])
            if not cr.fetchone()[0]:
                break
            time.sleep(0.2)
    conn.close()


def send_all(url, secret, bodies, clients, rate=0):
    results = [None] * len(bodies)
    lock = threading.Lock()
    cursor = {"next": 0}

    def worker():
        session = requests.Session()
        while True:
            with lock:
                index = cursor["next"]
                cursor["next"] += 1
            if index >= len(bodies):
                return
            if rate:
                wait = cursor["began"] + index / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            body = bodies[index]
            sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            t0 = time.perf_counter()
            try:
                response = session.post(url, data=body, timeout=30, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sig})
                status = response.status_code
            except requests.RequestException:
                status = 0
            results[index] = (status, time.perf_counter() - t0)

    threads = [threading.Thread(target=worker) for _i in range(clients)]
    cursor["began"] = time.perf_counter()  # read by the workers when paced
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - cursor["began"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=os.environ.get("LEAD_CHANNELS_BENCH_DB", "h_chan_bench"))
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--senders", type=int, default=400)
    parser.add_argument("--rate", type=float, default=0,
                        help="pace the clients to this many deliveries/s in total (0 = as fast as possible)")
    parser.add_argument("--timeout", type=int, default=600, help="bound of every wait, seconds")
    parser.add_argument("--db-filter", action="store_true",
                        help="also pass --db-filter: Odoo then lists the databases over a new connection "
                             "to 'postgres' on every request without a session (~3-5 ms each); with -d "
                             "alone it serves that database without asking")
    parser.add_argument("--cron-workers", type=int, default=2,
                        help="--max-cron-threads of the server (Odoo's default, 2: the inbox job and "
                             "its second lane for new contacts; 1: the inbox job alone)")
    parser.add_argument("--shape", choices=("rounds", "spread"), default="rounds",
                        help="rounds: every sender's first message comes in the first round (the "
                             "worst case: all new leads at the start of the burst); spread: the "
                             "senders' messages are shuffled through the burst")
    args = parser.parse_args()

    with_distribution = prepare_db(args.db, args.timeout)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    log = tempfile.NamedTemporaryFile(prefix="bench_lead_channels_", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-c", BOOT, "-d", args.db, "--addons-path", addons_path(), "--workers=2",
         "--max-cron-threads=%d" % args.cron_workers,
         "--http-interface=127.0.0.1", "--http-port=%d" % port, "--log-level=warn", "--limit-time-real=600"]
        + (["--db-filter=^%s$" % args.db] if args.db_filter else []),
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if requests.get(base + "/web/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("the Odoo server did not start")
            time.sleep(0.5)
        # let the crons due at start-up (mail queue, scoring, autovacuum...) run first:
        # the measure is about our inbox job, not a backlog of unrelated jobs
        conn = psycopg2.connect(dbname=args.db)
        conn.autocommit = True
        idle_deadline = time.time() + min(300, args.timeout)
        while time.time() < idle_deadline:
            with conn.cursor() as cr:
                cr.execute("SELECT count(*) FROM ir_cron WHERE active AND nextcall <= now() at time zone 'UTC'")
                if not cr.fetchone()[0]:
                    break
            time.sleep(1)
        conn.close()
        run = uuid.uuid4().hex[:6]
        # senders are +6011 <2 run digits> <6 digits>: take run digits no earlier run used,
        # or de-duplication would rightly hand the messages to that run's leads
        conn = psycopg2.connect(dbname=args.db)
        with conn, conn.cursor() as cr:
            # by contact ref too: a range whose numbers are not valid phone numbers leaves no phone
            cr.execute("SELECT DISTINCT substr(phone_sanitized, 6, 2) FROM crm_lead "
                       "WHERE phone_sanitized LIKE '+6011%%' UNION "
                       "SELECT DISTINCT substr(channel_contact_ref, 5, 2) FROM crm_lead "
                       "WHERE channel_contact_ref LIKE '6011%%'")
            used = {row[0] for row in cr.fetchall()}
        conn.close()
        free = [d for d in range(100) if "%02d" % d not in used]
        if not free:
            raise SystemExit("every sender range of %s is used: drop the database" % args.db)
        run_digits = random.Random(run).choice(free)
        rpc = Rpc(base, args.db)
        channel_id, token, secret, warm_id, warm_token = setup(rpc, run, with_distribution)
        bodies, distinct_wamids, distinct_senders = build_deliveries(
            args.deliveries, args.duplicates, args.senders, run_digits, args.shape)
        # warm-up of the cron workers: the new contacts of another channel go
        # through the same capture, routing and notification once, so that
        # the measure is of warm workers, as on a server that has been running
        warm_bodies, _w, _s = build_deliveries(WARM_UP, 0, WARM_UP, run_digits, first=900000)
        send_all(base + "/lead_channels/meta/%s" % warm_token, secret, warm_bodies, args.clients)
        wait_drained(args.db, warm_id, time.time() + args.timeout)
        # start from a vacuumed, analysed database, as a steady production one
        # is: autovacuum waking up on earlier runs' rows in the middle of the
        # burst made the figures of identical runs differ by a factor of two
        conn = psycopg2.connect(dbname=args.db)
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("VACUUM (ANALYZE)")
        conn.close()
        # warm-up: one request per worker so that registry loading is not measured
        for _i in range(4):
            requests.get(base + "/lead_channels/meta/%s?hub.mode=subscribe&hub.verify_token=bench&hub.challenge=1"
                         % token, timeout=60)

        client_cpu = time.process_time()
        results, wall = send_all(base + "/lead_channels/meta/%s" % token, secret, bodies, args.clients, args.rate)
        client_cpu = time.process_time() - client_cpu
        sent_done = time.time()
        conn = psycopg2.connect(dbname=args.db)
        conn.autocommit = True
        cr = conn.cursor()
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            cr.execute("SELECT count(*) FROM lead_channel_event WHERE channel_id = %s AND state = 'new'",
                       [channel_id])
            if not cr.fetchone()[0]:
                break
            time.sleep(0.5)
        drained_after = time.time() - sent_done
        # the followers' notifications the inbox job queued (sent once the inbox is drained)
        cr.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'lead_channel_event' "
                   "AND column_name = 'posted_message_id'")
        notified_after = None
        queued_notifications = bool(cr.fetchone())
        if queued_notifications:
            while time.time() < deadline:
                cr.execute("""
                    SELECT count(*) FROM mail_message_schedule s
                      JOIN lead_channel_event e ON e.posted_message_id = s.mail_message_id
                     WHERE e.channel_id = %s""", [channel_id])
                if not cr.fetchone()[0]:
                    notified_after = time.time() - sent_done
                    break
                time.sleep(0.5)

        statuses = {}
        for status, _t in results:
            statuses[status] = statuses.get(status, 0) + 1
        times = [t * 1000 for _s, t in results]
        cr.execute("""SELECT state, count(*) FROM lead_channel_event WHERE channel_id = %s GROUP BY state""",
                   [channel_id])
        states = dict(cr.fetchall())
        cr.execute("SELECT count(*), count(user_id) FROM crm_lead WHERE channel_id = %s", [channel_id])
        leads, routed = cr.fetchone()
        cr.execute("""
            SELECT count(*), count(DISTINCT m.wa_message_id) FROM mail_message m
              JOIN crm_lead l ON l.id = m.res_id AND m.model = 'crm.lead'
             WHERE l.channel_id = %s AND m.wa_message_id IS NOT NULL""", [channel_id])
        messages, distinct_messages = cr.fetchone()
        cr.execute("""
            SELECT count(*) FROM crm_lead l
              JOIN res_users u ON u.id = l.user_id
              JOIN mail_followers f ON f.res_model = 'crm.lead' AND f.res_id = l.id
                                   AND f.partner_id = u.partner_id
             WHERE l.channel_id = %s""", [channel_id])
        owner_following = cr.fetchone()[0]
        cr.execute("""
            SELECT extract(epoch FROM processed_at - received_at) * 1000,
                   e.id = (SELECT min(e2.id) FROM lead_channel_event e2
                            WHERE e2.lead_id = e.lead_id AND e2.state = 'done')
              FROM lead_channel_event e
             WHERE channel_id = %s AND state = 'done'""", [channel_id])
        rows = cr.fetchall()
        all_latency = [float(r[0]) for r in rows]
        creating_latency = [float(r[0]) for r in rows if r[1]]
        conn.close()

        print("lead_channels WhatsApp webhook benchmark (db %s, lead_distribution %s)"
              % (args.db, "installed: leads routed by a round-robin rule over 4 agents" if with_distribution
                 else "NOT installed"))
        print("deliveries            %d (%d distinct wamids, %d redelivered), %d senders (%s), %d clients, %s, "
              "%d cron workers"
              % (len(bodies), distinct_wamids, len(bodies) - distinct_wamids, distinct_senders, args.shape,
                 args.clients, "paced at %g/s" % args.rate if args.rate else "as fast as possible",
                 args.cron_workers))
        print("HTTP statuses         %s" % statuses)
        print("throughput            %.1f deliveries/s (%.1f s wall; the clients used %.1f CPU-s of the same cores)"
              % (len(bodies) / wall, wall, client_cpu))
        print("response time         p50 %.1f ms  p95 %.1f ms  max %.1f ms"
              % (pct(times, 50), pct(times, 95), max(times)))
        print("inbox drained         %.1f s after the last delivery was answered" % drained_after)
        if notified_after is not None:
            notified = "%.1f s after the last delivery was answered" % notified_after
        elif queued_notifications:
            notified = "NOT within --timeout %d s" % args.timeout
        else:
            notified = "while processing (message_post)"
        print("followers notified    %s" % notified)
        print("delivery -> processed p50 %.0f ms  p95 %.0f ms  (all %d messages)"
              % (pct(all_latency, 50), pct(all_latency, 95), len(all_latency)))
        print("delivery -> routed    p50 %.0f ms  p95 %.0f ms  (%d lead-creating messages)"
              % (pct(creating_latency, 50), pct(creating_latency, 95), len(creating_latency)))
        print("events                %s" % states)
        if states.get("new"):
            print("NOT DRAINED           %d events still waiting after --timeout %d s (slow machine), "
                  "counts below are partial" % (states["new"], args.timeout))
        print("leads created         %d (distinct senders %d) -> %s"
              % (leads, distinct_senders, "OK" if leads == distinct_senders else "MISMATCH"))
        print("messages posted       %d, distinct wamids %d (expected %d) -> %s"
              % (messages, distinct_messages, distinct_wamids,
                 "OK" if messages == distinct_messages == distinct_wamids else "MISMATCH"))
        print("routed / owner follows %d / %d of %d leads" % (routed, owner_following, leads))
        ok = leads == distinct_senders and messages == distinct_messages == distinct_wamids \
            and states.get("duplicate", 0) == len(bodies) - distinct_wamids
        return 0 if ok else 1
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        print("server log            %s" % log.name)


if __name__ == "__main__":
    sys.exit(main())
