#!/usr/bin/env python3
"""Benchmark of the lead_sla sweep on 100,000 open leads with running clocks.

Usage::

    python3 tests/bench/bench_lead_sla.py --template DB_WITH_LEAD_SLA [--db NAME]
    python3 tests/bench/bench_lead_sla.py            # installs lead_sla first (slower)

It creates a throwaway database (``--db``, env ``LEAD_SLA_BENCH_DB``, default
``lead_sla_bench``) copied from ``--template`` (or freshly installed), inserts
the leads with one SQL statement, and times, side by side in one run:

* a sweep when no clock is due (target < 50 ms), through the partial indexes,
  and the same due-lead query with index scans disabled (what a sweep without
  the indexes would cost);
* a sweep when 1,000 clocks reach their deadline (breach: chatter note,
  managers notified) and when 1,000 reach their warning (activity and in-app
  notification), target < 1 s each.

Every measured sweep runs in a transaction that is rolled back, so each
repetition sees the same data. The database is dropped at the end unless
``--keep`` is given. The run is bounded (``--timeout``, default 600 s).
"""
import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parents[2]
N_LEADS = 100_000
N_DUE = 1_000
NOW = datetime(2030, 1, 7, 10, 0, 0)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=os.environ.get("LEAD_SLA_BENCH_DB", "lead_sla_bench"))
    p.add_argument("--template", default=os.environ.get("LEAD_SLA_BENCH_TEMPLATE"),
                   help="existing database with lead_sla installed, copied with createdb -T")
    p.add_argument("--addons-path", default=os.environ.get("ODOO_ADDONS_PATH"))
    p.add_argument("--leads", type=int, default=N_LEADS)
    p.add_argument("--due", type=int, default=N_DUE)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--keep", action="store_true")
    return p.parse_args()


def default_addons_path():
    import odoo
    base = pathlib.Path(odoo.__path__[0])
    return ",".join(str(p) for p in (base.parent / "addons", base / "addons", ROOT))


def create_db(args):
    subprocess.run(["dropdb", "--if-exists", args.db], check=True)
    if args.template:
        subprocess.run(["createdb", "-T", args.template, args.db], check=True)
        return
    subprocess.run(["createdb", args.db], check=True)
    subprocess.run(["odoo", "-d", args.db, "--addons-path", args.addons_path, "-i", "lead_sla",
                    "--without-demo=all", "--stop-after-init", "--log-level=warn"],
                   check=True, timeout=args.timeout)


def insert_leads(cr, n_leads):
    """n_leads open, assigned leads with hot clocks running far ahead."""
    cr.execute("SELECT id FROM res_users WHERE login = 'admin'")
    uid = cr.fetchone()[0]
    cr.execute("SELECT id FROM lead_sla_policy WHERE response_minutes > 0 ORDER BY sequence LIMIT 1")
    policy_id = cr.fetchone()[0]
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    company_id = cr.fetchone()[0]
    # a team led by another user, so that breaches notify a manager
    cr.execute("SELECT id FROM res_users WHERE id != %s AND share IS NOT TRUE AND active "
               "ORDER BY id DESC LIMIT 1", [uid])
    leader = cr.fetchone()
    from odoo import SUPERUSER_ID, api
    env = api.Environment(cr, SUPERUSER_ID, {})
    team_id = env["crm.team"].create({
        "name": "Bench team", "user_id": leader and leader[0], "company_id": company_id}).id
    env.flush_all()
    cr.execute("""
        INSERT INTO crm_lead (name, type, active, probability, priority, lead_timeline, team_id,
                              user_id, company_id, sla_policy_id, sla_user_id, sla_status,
                              sla_start, sla_warn_at, sla_deadline, sla_breach_count,
                              sla_reassign_count, create_uid, write_uid, create_date, write_date)
        SELECT 'Bench lead ' || g, 'opportunity', true, 10, '0', 'unknown', %(team)s,
               %(uid)s, %(company)s, %(policy)s, %(uid)s, 'running',
               %(now)s, %(now)s + interval '1 day' + g * interval '1 second',
               %(now)s + interval '2 day' + g * interval '1 second', 0, 0,
               %(uid)s, %(uid)s, %(now)s, %(now)s
          FROM generate_series(1, %(n)s) g""",
               {"uid": uid, "company": company_id, "policy": policy_id, "now": NOW, "n": n_leads,
                "team": team_id})
    # as after an ORM assignment, the owner follows the lead
    cr.execute("""
        INSERT INTO mail_followers (res_model, res_id, partner_id)
        SELECT 'crm.lead', l.id, u.partner_id
          FROM crm_lead l JOIN res_users u ON u.id = l.user_id
         WHERE l.team_id = %s""", [team_id])
    cr.execute("ANALYZE crm_lead")
    cr.execute("ANALYZE mail_followers")


def make_due(cr, n_due, what):
    """Move n_due clocks to 'due now' (deadline or warning)."""
    column = "sla_deadline" if what == "breach" else "sla_warn_at"
    cr.execute(f"""
        UPDATE crm_lead SET {column} = %s - interval '1 minute'
         WHERE id IN (SELECT id FROM crm_lead WHERE name LIKE 'Bench lead %%'
                       ORDER BY id LIMIT %s)""", [NOW, n_due])


def timed_sweep(registry, n_due, what, repeat):
    from odoo import SUPERUSER_ID, api
    times, cpu, counts = [], [], []
    for _i in range(repeat):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if n_due:
                make_due(cr, n_due, what)
            start, start_cpu = time.perf_counter(), time.process_time()
            warned, breached = env["crm.lead"]._lead_sla_sweep(now=NOW, batch_size=max(n_due, 1))
            env.flush_all()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            counts.append((len(warned), len(breached)))
            cr.rollback()
    return statistics.median(times), min(times), counts[0], statistics.median(cpu)


def due_query_plan(registry, index):
    with registry.cursor() as cr:
        if not index:
            cr.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
        query = """SELECT id FROM crm_lead
                    WHERE sla_status IN ('running', 'warning') AND sla_deadline <= %s
                    ORDER BY sla_deadline LIMIT 1000 FOR UPDATE SKIP LOCKED"""
        times = []
        for _i in range(5):
            start = time.perf_counter()
            cr.execute(query, [NOW])
            cr.fetchall()
            times.append(time.perf_counter() - start)
        cr.execute("EXPLAIN " + query, [NOW])
        plan = " / ".join(r[0].strip() for r in cr.fetchall()[:3])
        cr.rollback()
    return statistics.median(times), plan


def main():
    args = parse_args()
    signal.alarm(args.timeout)  # bounded run time
    args.addons_path = args.addons_path or default_addons_path()
    t0 = time.perf_counter()
    create_db(args)
    import odoo
    from odoo.tools import config
    config.parse_config(["-d", args.db, "--addons-path", args.addons_path, "--log-level=warn"])
    from odoo.modules.registry import Registry
    registry = Registry(args.db)
    try:
        with registry.cursor() as cr:
            start = time.perf_counter()
            insert_leads(cr, args.leads)
            insert_s = time.perf_counter() - start
        print(f"setup: database {args.db}, {args.leads:,} leads inserted by SQL in {insert_s:.2f} s")

        idle, idle_min, idle_counts, idle_cpu = timed_sweep(registry, 0, "none", args.repeat * 4)
        q_idx, plan_idx = due_query_plan(registry, index=True)
        q_seq, plan_seq = due_query_plan(registry, index=False)
        breach, breach_min, breach_counts, breach_cpu = timed_sweep(
            registry, args.due, "breach", args.repeat)
        warn, warn_min, warn_counts, warn_cpu = timed_sweep(
            registry, args.due, "warning", args.repeat)

        print(f"\nlead_sla sweep, {args.leads:,} open leads with running clocks "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"{'scenario':44} {'median':>10} {'min':>10} {'py cpu':>10}  warned/breached")
        rows = [
            ("sweep, none due (target < 50 ms)", idle, idle_min, idle_cpu, idle_counts),
            (f"sweep, {args.due} deadlines due (target < 1 s)", breach, breach_min, breach_cpu,
             breach_counts),
            (f"sweep, {args.due} warnings due (target < 1 s)", warn, warn_min, warn_cpu,
             warn_counts),
        ]
        for label, med, low, cpu_s, counts in rows:
            print(f"{label:44} {med * 1000:7.1f} ms {low * 1000:7.1f} ms {cpu_s * 1000:7.1f} ms"
                  f"  {counts}")
        print(f"\ndue-lead query, partial index : {q_idx * 1000:8.2f} ms   plan: {plan_idx}")
        print(f"due-lead query, no index scan : {q_seq * 1000:8.2f} ms   plan: {plan_seq}")
        print(f"ratio no-index / index        : {q_seq / q_idx:8.1f} x")
        print(f"ratio 1,000 due / none due    : {breach / idle:8.1f} x")
        print(f"\ntotal run time {time.perf_counter() - t0:.1f} s")
    finally:
        registry.delete_all() if hasattr(registry, "delete_all") else None
        odoo.sql_db.close_all()
        if not args.keep:
            subprocess.run(["dropdb", "--if-exists", args.db], check=False)


if __name__ == "__main__":
    sys.exit(main())
