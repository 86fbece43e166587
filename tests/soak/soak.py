#!/usr/bin/env python3
"""Soak with faults: two Odoo servers, one PostgreSQL, crashes and restarts.

    python3 tests/soak/soak.py                 # full: 6 clients x 240 requests, at most 120 s
    python3 tests/soak/soak.py --requests 15 --clients 3 --agents 2   # reduced
    python3 tests/bench/bench_soak.py          # the same load paced (15/s): the latency target

Starts its own PostgreSQL cluster on a free loopback port, a database with
the four addons (installed, or copied from an installed one with --from-db),
two Odoo servers on 127.0.0.1 (``--workers=2 --max-cron-threads=1`` each)
and a local Graph API server. Configures channels, agents, a weighted pool,
a fast SLA policy and a nurture sequence through JSON-RPC; then sends
``--requests`` signed deliveries per client (a closed loop: the next request
when the last is answered; ``--seconds`` bounds it) to both servers
(20 % duplicates, some to both servers at once) while agents work their
leads, and injects the faults at fixed fractions of the requests:
PostgreSQL restarted (``pg_ctl restart -m fast``), one Odoo server killed with
SIGKILL and started again, the Graph server answering 500s then timing out.
Non-2xx answers are redelivered until accepted. Afterwards it waits for the
inbox to drain (bounded), checks and prints the figures; the exit code is 1
when a check fails. Loopback only; bounded in time and requests. No timer
paces it: a benchmark that wants a rate passes its own pacing to ``main``.
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
from setup_rpc import APP_SECRET, Faults, Rpc, RpcError, agent, agent_rpcs, configure  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120,
                        help="upper bound of the load's duration (default 120); the load itself is "
                             "--requests per client")
    parser.add_argument("--clients", type=int, default=6, help="concurrent delivery clients (default 6)")
    parser.add_argument("--agents", type=int, default=3, help="agents working their leads (max 3)")
    parser.add_argument("--requests", type=int, default=240,
                        help="requests per client (default 240: the load outlasts the faults, so that "
                             "calm time follows the restarted server too)")
    parser.add_argument("--drain", type=int, default=420, help="max seconds to wait for the inbox to drain")
    parser.add_argument("--p95-ms", type=int, default=0,
                        help="webhook p95 target outside fault windows (default 0: reported, not judged; "
                             "the target belongs to the paced load of tests/bench/bench_soak.py)")
    parser.add_argument("--from-db", help="copy this installed database instead of installing: "
                                          "'host port user dbname'")
    parser.add_argument("--filestore", help="filestore folder of --from-db")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) at the end")
    return parser.parse_args(argv)


def schedule_faults(total, ledger, cluster, servers, graph, faults, graph_down, token, agent_logins):
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
        warm(victim, token, [logins[victim.name] for logins in agent_logins.values()])
        faults.add("odoo %s killed" % victim.name, began, time.time() + 3)
        log("fault: server %s is back" % victim.name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def warm(server, token, agents=(), seconds=60):
    """Bring a server to its working state before it takes load: concurrent
    cheap requests until they are all quick, so that every worker has loaded
    the registry and checked each agent's password once.

    ``execute_kw`` caches a password check per worker process after a PBKDF2
    hashing of about a second of CPU: a server that has served its users for
    a while has them all cached, a server just started has none. ``agents``:
    the agents' ``Rpc`` of this server."""
    url = server.url + "/lead_channels/meta/%s?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1" % token
    deadline = time.time() + seconds
    while time.time() < deadline:
        times = []

        def one(rpc=None):
            begin = time.time()
            try:
                if rpc:
                    rpc("crm.stage", "search_count", [])
                else:
                    requests.get(url, timeout=30)
            except (requests.RequestException, RpcError):
                pass
            times.append(time.time() - begin)
        # more calls than workers, for each agent: each worker takes some
        threads = [threading.Thread(target=one) for _i in range(6)] + [
            threading.Thread(target=one, args=(rpc,)) for rpc in agents for _i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(times) < 0.3:
            return


def settle_crons(cr_factory, wake, timeout=180):
    """Wait until no scheduled action is due (bounded): a new database has
    every daily job due at once (vacuum, rescoring, reports), and some of them
    reset Odoo's caches in every worker; a server in service has run them long
    before. ``wake()`` wakes the cron workers as a trigger does (they poll
    only every minute otherwise). No timer: a cron worker holds the row of
    the job it runs, and a share lock on the due jobs waits for that run to
    end. Returns the seconds waited."""
    began = time.time()
    cnx = cr_factory()
    try:
        while time.time() < began + timeout:
            with cnx.cursor() as cr:
                cr.execute("SELECT c.id FROM ir_cron c WHERE c.active AND (c.nextcall <= now() AT TIME ZONE 'UTC' "
                           "OR EXISTS (SELECT 1 FROM ir_cron_trigger t WHERE t.cron_id = c.id "
                           "AND t.call_at <= now() AT TIME ZONE 'UTC'))")
                due = [row[0] for row in cr.fetchall()]
                if not due:
                    break
                wake()
                cr.execute("SELECT id FROM ir_cron WHERE id = ANY(%s) FOR SHARE", [due])
            cnx.rollback()  # at once: a worker skips a job whose row another transaction holds
    finally:
        cnx.close()
    return time.time() - began


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


def run_load(args, budget, servers, setup, ledger, graph_down, db, agent_logins, pacing=None):
    """``budget`` requests per client; agents act meanwhile. Returns when the
    clients are done, with a function that stops the agents (they act until
    it is called, on MIN_AGENT_ACTIONS actions at least). ``--seconds`` bounds
    it in time all the same."""
    builder = Builder(setup["channels"], APP_SECRET)
    until = time.time() + args.seconds
    channel_ids = [c["id"] for c in setup["channels"].values()]
    stop = threading.Event()
    clients = [threading.Thread(target=client, args=(servers, builder, ledger, until, budget, graph_down.is_set,
                                                     pacing and pacing.client()))
               for _i in range(args.clients)]
    agents = [threading.Thread(target=agent, args=(
        servers, db, login, channel_ids, ledger, until, args.seconds, stop, rpcs, pacing and pacing.agent()))
        for login, rpcs in agent_logins.items()]
    for thread in clients + agents:
        thread.start()
    for thread in clients:
        thread.join()
    ledger.finish()

    def stop_agents():
        stop.set()
        for thread in agents:
            thread.join()
    return stop_agents


def main(argv=None, pacing=None):
    """``pacing``: None (a closed loop), or an object whose ``client()`` and
    ``agent()`` give each client and agent its ``pace(n)`` and whose
    ``label`` names it (``tests/bench/bench_soak.py``)."""
    args = parse_args(argv)
    load_label = pacing.label if pacing else "flat out"
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
        def connect():
            return psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, dbname=db)
        def wake_crons():
            cnx = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, dbname="postgres")
            cnx.autocommit = True
            try:
                with cnx.cursor() as cr:
                    cr.execute("SELECT pg_notify('cron_trigger', %s)", [db])  # what ir.cron._trigger() sends
            finally:
                cnx.close()
        log("scheduled actions due at start done after %.0f s" % settle_crons(connect, wake_crons))
        agent_logins = agent_rpcs(servers, db, ["soak_agent_%d" % (i + 1) for i in range(
            min(args.agents, len(setup["agents"])))])
        for server in servers:
            warm(server, setup["channels"]["whatsapp"]["token"],
                 [logins[server.name] for logins in agent_logins.values()])
        ledger, faults, graph_down = Ledger(), Faults(), threading.Event()
        load_start, budget = time.time(), args.requests
        log("load: %d clients x %d requests, %s, %d agents" % (
            args.clients, budget, load_label, args.agents))
        fault_thread = schedule_faults(args.clients * budget, ledger, cluster, servers, graph, faults,
                                       graph_down, setup["channels"]["whatsapp"]["token"], agent_logins)
        stop_agents = run_load(args, budget, servers, setup, ledger, graph_down, db, agent_logins, pacing)
        load_seconds = time.time() - load_start
        fault_thread.join(timeout=240)
        # the agents work on meanwhile: a short load whose deliveries met the
        # faults has its leads only once they are redelivered
        log("load done; redelivering what was refused")
        redelivered = redeliver_all(servers, ledger, time.time() + 120)
        stop_agents()
        ids = [c["id"] for c in setup["channels"].values()]
        log("waiting for the inbox to drain (at most %d s)" % args.drain)
        drained_at = time.time()
        drained = drain(connect, ids, setup["nurture"], args.drain)
        report.figure("load seconds / clients x requests / rate / agents", "%.0f / %d x %d / %s / %d" % (
            load_seconds, args.clients, budget, load_label, args.agents))
        report.figure("fault windows (s from load start)", ", ".join(
            "%s %.0f-%.0f" % (n, s - load_start, e - load_start) for n, s, e in faults.windows))
        report.figure("Graph server: sends / Lead Ads retrievals / failed answers", "%(send)d / %(leadgen)d / "
                      "%(failed)d" % graph.counts)
        report.figure("inbox drained in (s after the load)", "%.0f" % (time.time() - drained_at) if drained else "no")
        report.check("inbox drained within %d s" % args.drain, drained)
        report.check("redeliveries finished", redelivered)
        checks.check_ledger(report, ledger, faults, args.p95_ms)
        cnx = connect()
        # every figure from one snapshot: the crons (nurture, notifications) may still commit meanwhile
        cnx.set_session(isolation_level="REPEATABLE READ", readonly=True)
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
