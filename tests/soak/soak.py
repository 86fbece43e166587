#!/usr/bin/env python3
"""Soak with faults: two Odoo servers, one PostgreSQL, crashes and restarts.

    python3 tests/soak/soak.py                 # full: 6 clients x 80 requests, at most 120 s
    python3 tests/soak/soak.py --requests 15 --clients 3 --agents 2   # reduced

Starts its own PostgreSQL cluster on a free loopback port, a database with
the four addons (installed, or copied from an installed one with --from-db),
two Odoo servers on 127.0.0.1 (``--workers=2 --max-cron-threads=1`` each)
and a local Graph API server. Configures channels, agents, a weighted pool,
a fast SLA policy and a nurture sequence through JSON-RPC; then sends
``--requests`` signed deliveries per client (a closed loop: the next request
when the last is answered, no timer; ``--seconds`` bounds it) to both servers
(20 % duplicates, some to both servers at once) while agents work their
leads, and injects the faults at fixed fractions of the requests:
PostgreSQL restarted (``pg_ctl restart -m fast``), one Odoo server killed with
SIGKILL and started again, the Graph server answering 500s then timing out.
Non-2xx answers are redelivered until accepted. Afterwards it waits for the
inbox to drain (bounded), checks and prints the figures; the exit code is 1
when a check fails. Loopback only; bounded in time and requests.
"""
import argparse
import os
import select
import shutil
import sys
import tempfile
import threading
import time

import psycopg2
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from graph import GraphServer  # noqa: E402
from load import Builder, Ledger, client, redeliver_all  # noqa: E402
from servers import (  # noqa: E402
    ADDONS, OdooServer, SoakCluster, copy_database, install, log, set_password, write_config,
)
from setup_rpc import APP_SECRET, Faults, Rpc, agent, configure  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120,
                        help="upper bound of the load's duration (default 120); the load itself is "
                             "--requests per client")
    parser.add_argument("--clients", type=int, default=6, help="concurrent delivery clients (default 6)")
    parser.add_argument("--agents", type=int, default=3, help="agents working their leads (max 3)")
    parser.add_argument("--requests", type=int, default=80,
                        help="requests per client (default 80: the load outlasts the faults, so that "
                             "calm time follows the restarted server too); a client sends the next "
                             "one when the last is answered, without any timer")
    parser.add_argument("--drain", type=int, default=420, help="max seconds to wait for the inbox to drain")
    parser.add_argument("--p95-ms", type=int, default=150,
                        help="webhook p95 target outside fault windows (0: report it, no target)")
    parser.add_argument("--from-db", help="copy this installed database instead of installing: "
                                          "'host port user dbname'")
    parser.add_argument("--filestore", help="filestore folder of --from-db")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) at the end")
    return parser.parse_args(argv)


def schedule_faults(total, ledger, cluster, servers, graph, faults, graph_down, token):
    """Faults at fixed fractions of the load's ``total`` requests (not of the
    clock): Graph down (500s, then timeouts), PostgreSQL restart, SIGKILL of
    server B and its restart. Each step waits for the load's progress."""

    def at(fraction):
        ledger.wait_for_requests(int(fraction * total))

    def run():
        at(0.15)
        began = time.time()
        graph_down.set()
        log("fault: Graph server answers 500s, then times out")
        graph.mode = "500"
        at(0.23)
        graph.mode = "timeout"
        at(0.31)
        graph.mode = "ok"
        graph_down.clear()
        faults.add("graph down", began, time.time())
        at(0.40)
        began = time.time()
        log("fault: pg_ctl restart -m fast")
        cluster.restart()
        faults.add("postgres restart", began, time.time() + 3)
        at(0.55)
        began = time.time()
        victim = servers[1]
        log("fault: SIGKILL to Odoo server %s" % victim.name)
        victim.kill()
        # started again at once: its start-up is the window the load meets it down
        victim.start()
        victim.wait_ready()
        warm(victim, token)
        faults.add("odoo %s killed" % victim.name, began, time.time() + 3)
        log("fault: server %s is back" % victim.name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def warm(server, token, seconds=20):
    """Load the registry in every worker: concurrent cheap requests until they are quick."""
    url = server.url + "/lead_channels/meta/%s?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1" % token
    deadline = time.time() + seconds
    while time.time() < deadline:
        times = []

        def one():
            begin = time.time()
            try:
                requests.get(url, timeout=30)
            except requests.RequestException:
                pass
            times.append(time.time() - begin)
        threads = [threading.Thread(target=one) for _i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(times) < 0.3:
            return


def drain(cr_factory, ids, nurture_id, timeout):
    """Wait until no event is new or failed (failed ones wait for their retry)
    and no nurture step is due."""
    deadline = time.time() + timeout
    next_report = time.time() + 30
    listener = cr_factory()
    listener.autocommit = True
    with listener.cursor() as cr:
        cr.execute("LISTEN imbus")
    try:
        return _drain(cr_factory, ids, nurture_id, deadline, next_report, listener)
    finally:
        listener.close()


def _drain(cr_factory, ids, nurture_id, deadline, next_report, listener):
    while time.time() < deadline:
        cnx = cr_factory()
        try:
            with cnx.cursor() as cr:
                cr.execute("SELECT count(*) FILTER (WHERE state = 'new'), count(*) FILTER (WHERE state = 'failed'), "
                           "min(next_attempt_at) FILTER (WHERE state = 'failed') FROM lead_channel_event "
                           "WHERE channel_id = ANY(%s)", [ids])
                new, failed, next_retry = cr.fetchone()
                # nurture steps due and not sent yet (the nurture crons' work)
                cr.execute("SELECT count(*) FROM crm_lead WHERE nurture_state = 'running' "
                           "AND nurture_sequence_id = %s AND nurture_next_date <= now() AT TIME ZONE 'UTC'",
                           [nurture_id])
                nurture_due = cr.fetchone()[0]
        finally:
            cnx.close()
        if not new and not failed and not nurture_due:
            return True
        if time.time() >= next_report:
            log("inbox: %d new, %d failed (next retry %s); nurture steps due: %d"
                % (new, failed, next_retry or "-", nurture_due))
            next_report = time.time() + 30
        # no timer: wait for the servers' next bus notification (every
        # processed event posts a message), at most 2 s
        if select.select([listener], [], [], 2.0)[0]:
            listener.poll()
            listener.notifies.clear()
    return False


def run_load(args, budget, servers, setup, ledger, graph_down, db):
    """``budget`` requests per client, closed loop; agents act until the
    clients are done. ``--seconds`` bounds it in time all the same."""
    builder = Builder(setup["channels"], APP_SECRET)
    until = time.time() + args.seconds
    channel_ids = [c["id"] for c in setup["channels"].values()]
    stop = threading.Event()
    clients = [threading.Thread(target=client, args=(servers, builder, ledger, until, budget, graph_down.is_set))
               for _i in range(args.clients)]
    agents = [threading.Thread(target=agent, args=(
        servers, db, "soak_agent_%d" % (i + 1), channel_ids, ledger, until, args.seconds, stop))
        for i in range(min(args.agents, len(setup["agents"])))]
    for thread in clients + agents:
        thread.start()
    for thread in clients:
        thread.join()
    ledger.finish()
    stop.set()
    for thread in agents:
        thread.join()


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    workdir = tempfile.mkdtemp(prefix="leadsuite-soak-")
    cluster = SoakCluster()
    graph = GraphServer().start()
    servers = []
    report = checks.Report()
    db = "soak"
    try:
        cluster.start()
        conf_path, conf = write_config(workdir, cluster)
        if args.from_db:
            log("copying the installed database %s" % args.from_db.split()[-1])
            copy_database(cluster, conf, db, args.from_db, args.filestore)
        else:
            log("installing %s with demo data" % ", ".join(ADDONS))
            install(conf_path, workdir, db)
        set_password(cluster, db, "admin", "admin")
        log("database ready after %.0f s" % (time.time() - started))
        servers = [OdooServer(name, conf_path, db, workdir).start() for name in ("A", "B")]
        for server in servers:
            server.wait_ready()
        log("two Odoo servers up: %s" % ", ".join(s.url for s in servers))
        setup = configure(Rpc(servers[0].url, db, "admin", "admin"), graph.url)
        log("configured: 4 channels, %d agents in a weighted pool, a 2-minute SLA policy" % len(setup["agents"]))
        for server in servers:
            warm(server, setup["channels"]["whatsapp"]["token"])
        ledger, faults, graph_down = Ledger(), Faults(), threading.Event()
        load_start, budget = time.time(), args.requests
        log("load: %d clients x %d requests, %d agents" % (args.clients, budget, args.agents))
        fault_thread = schedule_faults(args.clients * budget, ledger, cluster, servers, graph, faults,
                                       graph_down, setup["channels"]["whatsapp"]["token"])
        run_load(args, budget, servers, setup, ledger, graph_down, db)
        load_seconds = time.time() - load_start
        fault_thread.join(timeout=240)
        log("load done; redelivering what was refused")
        redelivered = redeliver_all(servers, ledger, time.time() + 120)
        ids = [c["id"] for c in setup["channels"].values()]
        def connect():
            return psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, dbname=db)
        log("waiting for the inbox to drain (at most %d s)" % args.drain)
        drained_at = time.time()
        drained = drain(connect, ids, setup["nurture"], args.drain)
        report.figure("load seconds / clients x requests / agents", "%.0f / %d x %d / %d" % (
            load_seconds, args.clients, budget, args.agents))
        report.figure("fault windows (s from load start)", ", ".join(
            "%s %.0f-%.0f" % (n, s - load_start, e - load_start) for n, s, e in faults.windows))
        report.figure("Graph server: sends / Lead Ads retrievals / failed answers", "%(send)d / %(leadgen)d / "
                      "%(failed)d" % graph.counts)
        report.figure("inbox drained in (s after the load)", "%.0f" % (time.time() - drained_at) if drained else "no")
        report.check("inbox drained within %d s" % args.drain, drained)
        report.check("redeliveries finished", redelivered)
        checks.check_ledger(report, ledger, faults, args.p95_ms)
        cnx = connect()
        try:
            with cnx.cursor() as cr:
                checks.check_database(report, cr, ledger, setup)
        finally:
            cnx.close()
        for server in servers:
            errors = server.log_errors()
            report.figure("server %s: ERROR lines in its log (starts)" % server.name,
                          "%d (%d)%s" % (len(errors), server.starts, (" first: " + errors[0][:200]) if errors else ""))
        report.figure("total run seconds", "%.0f" % (time.time() - started))
    finally:
        for server in servers:
            server.stop()
        graph.stop()
        cluster.stop()
        if args.keep:
            log("logs kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("SOAK RESULTS", flush=True)
    report.print()
    print("SOAK %s: %d checks failed%s" % ("FAILED" if report.failures else "PASSED", len(report.failures),
                                           (" (" + "; ".join(report.failures) + ")") if report.failures else ""),
          flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
