#!/usr/bin/env python3
"""Benchmark of the Lead Management dashboard on 1,000,000 leads.

Usage::

    python3 tests/bench/bench_dashboard.py --template DB_WITH_LEAD_DASHBOARD [--db NAME]
    python3 tests/bench/bench_dashboard.py --leads 200000   # installs lead_dashboard first

It creates a throwaway database (``--db``, env ``LEAD_DASHBOARD_BENCH_DB``,
default ``lead_dashboard_bench``) copied from ``--template`` (or freshly
installed without demo data), inserts ``--leads`` leads with one SQL statement
(10 teams of 10 agents, two years of history in creation order, as a real
table fills: old leads mostly closed, recent ones half open; channels, sources, stages, lost reasons, revenue and SLA
outcomes spread over them), and times ``lead.dashboard.get_dashboard_data``
for the last 90 days, as the admin user (a sales manager: record rules on),
for one team (target < 500 ms) and for all teams (target < 2 s).

Each figure set is computed ``--repeat`` times with an empty ORM cache; the
median, the minimum and the CPU time of both this process and its PostgreSQL
backend (see benchutil.cpu_clock) are printed. The database is dropped at the
end unless ``--keep`` is given. The run is bounded (``--timeout``, default
1800 s).
"""
import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchutil import cpu_clock  # noqa: E402

N_LEADS = 1_000_000
N_TEAMS = 10
N_AGENTS = 10  # per team
HISTORY_DAYS = 730


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=os.environ.get("LEAD_DASHBOARD_BENCH_DB", "lead_dashboard_bench"))
    p.add_argument("--template", default=os.environ.get("LEAD_DASHBOARD_BENCH_TEMPLATE"),
                   help="existing database with lead_dashboard installed, copied with createdb -T")
    p.add_argument("--addons-path", default=os.environ.get("ODOO_ADDONS_PATH"))
    p.add_argument("--leads", type=int, default=N_LEADS)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--timeout", type=int, default=1800)
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
    subprocess.run([sys.executable, "-m", "odoo", "-d", args.db, "--addons-path", args.addons_path,
                    "-i", "lead_dashboard", "--without-demo=all", "--stop-after-init",
                    "--log-level=warn"], check=True, timeout=args.timeout)


def make_setup(env):
    """Teams, agents, channels and sources through the ORM: ids for the SQL."""
    env["lead.routing.rule"].search([]).active = False
    company = env.company
    users, user_team, teams = [], [], []
    Users = env["res.users"].with_context(no_reset_password=True, mail_create_nolog=True,
                                          tracking_disable=True)
    salesman = env.ref("sales_team.group_sale_salesman")
    for t in range(N_TEAMS):
        team = env["crm.team"].create({"name": "Bench team %d" % t, "company_id": company.id})
        teams.append(team.id)
        for a in range(N_AGENTS):
            user = Users.create({"name": "Bench agent %d-%d" % (t, a), "login": "bench%d_%d" % (t, a),
                                 "groups_id": [(6, 0, [salesman.id, env.ref("base.group_user").id])]})
            env["crm.team.member"].create({"crm_team_id": team.id, "user_id": user.id,
                                           "lead_max_open": 500 if a % 3 else 0,
                                           "lead_available": a != 7})
            users.append(user.id)
            user_team.append(team.id)
    channels = [env["lead.channel"].create({"name": "Bench %s" % kind, "channel_type": kind}).id
                for kind in ("whatsapp", "facebook_lead_ads", "instagram", "web_form", "email",
                             "walk_in")]
    sources = [env["utm.source"].create({"name": "Bench source %d" % i}).id for i in range(8)]
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence, id").ids
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1).id
    reasons = env["crm.lost.reason"].search([]).ids
    env.flush_all()
    return {"company": company.id, "users": users, "user_team": user_team, "teams": teams,
            "channels": channels, "sources": sources, "stages": stages, "won_stage": won_stage,
            "reasons": reasons}


def insert_leads(cr, setup, n_leads, today):
    """n_leads leads in one statement; every column derived from the row number."""
    cr.execute("""
        WITH g AS (
            SELECT i, (i * 7919) %% %(days)s AS age, (i * 104729) %% 100 AS roll,
                   1 + i %% cardinality(%(users)s::int[]) AS who
              FROM generate_series(1::bigint, %(n)s) i
        ), o AS (
            SELECT *, CASE WHEN age > 90 THEN
                        CASE WHEN roll < 25 THEN 'won' WHEN roll < 95 THEN 'lost' ELSE 'open' END
                      ELSE
                        CASE WHEN roll < 10 THEN 'won' WHEN roll < 40 THEN 'lost' ELSE 'open' END
                      END AS outcome
              FROM g
        )
        INSERT INTO crm_lead (name, type, active, probability, priority, lead_timeline, company_id,
                              team_id, user_id, stage_id, channel_id, source_id, lost_reason_id,
                              expected_revenue, sla_status, sla_start, sla_first_response_date,
                              sla_response_minutes, create_uid, write_uid, create_date, write_date)
        SELECT 'Bench lead ' || i, 'opportunity', outcome != 'lost',
               CASE outcome WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE 10 + roll %% 80 END,
               '0', 'unknown', %(company)s,
               (%(user_team)s::int[])[who], (%(users)s::int[])[who],
               CASE WHEN outcome = 'won' THEN %(won_stage)s
                    ELSE (%(stages)s::int[])[1 + i %% cardinality(%(stages)s::int[])] END,
               CASE WHEN i %% 10 = 0 THEN NULL
                    ELSE (%(channels)s::int[])[1 + (i * 13) %% cardinality(%(channels)s::int[])] END,
               (%(sources)s::int[])[1 + (i * 17) %% cardinality(%(sources)s::int[])],
               CASE WHEN outcome = 'lost'
                    THEN (%(reasons)s::int[])[1 + i %% cardinality(%(reasons)s::int[])] END,
               (i %% 50) * 1000,
               CASE WHEN roll %% 10 < 6 THEN 'met' WHEN roll %% 10 < 7 THEN 'late'
                    WHEN roll %% 10 < 8 THEN 'breached' WHEN outcome = 'open' THEN 'running'
                    ELSE 'none' END,
               %(today)s - age * interval '1 day' + interval '5 minutes',
               CASE WHEN roll %% 10 < 7
                    THEN %(today)s - age * interval '1 day' + (5 + (i * 7) %% 600) * interval '1 minute' END,
               CASE WHEN roll %% 10 < 7 THEN (i * 7) %% 600 ELSE 0 END,
               1, 1, %(today)s - age * interval '1 day' + (i %% 86400) * interval '1 second',
               %(today)s
          FROM o
         ORDER BY age DESC, i""", dict(setup, n=n_leads, days=HISTORY_DAYS, today=today))
    cr.execute("ANALYZE crm_lead")


def timed(registry, uid, team_id, date_from, date_to, repeat):
    from odoo import api
    times, cpu = [], []
    with registry.cursor() as cr:
        env = api.Environment(cr, uid, {"tz": "UTC", "lang": "en_US"})
        data = None
        for _i in range(repeat + 1):  # the first run warms PostgreSQL's and the registry's caches
            env.invalidate_all()
            start, start_cpu = time.perf_counter(), cpu_clock(cr)
            data = env["lead.dashboard"].get_dashboard_data(date_from, date_to, team_id=team_id)
            end_cpu = cpu_clock(cr)
            times.append(time.perf_counter() - start)
            cpu.append(end_cpu - start_cpu if start_cpu is not None and end_cpu is not None else 0)
        cr.rollback()
    times, cpu = times[1:], cpu[1:]
    return statistics.median(times), min(times), statistics.median(cpu), data


def main():
    args = parse_args()
    signal.alarm(args.timeout)  # bounded run time
    args.addons_path = args.addons_path or default_addons_path()
    t0 = time.perf_counter()
    create_db(args)
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config
    config.parse_config(["-d", args.db, "--addons-path", args.addons_path, "--log-level=warn"])
    from odoo.modules.registry import Registry
    registry = Registry(args.db)
    today = datetime.combine(date.today(), datetime.min.time())
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            setup = make_setup(env)
            start = time.perf_counter()
            insert_leads(cr, setup, args.leads, today)
            insert_s = time.perf_counter() - start
            admin = env.ref("base.user_admin").id
        print(f"setup: database {args.db}, {args.leads:,} leads inserted by SQL in {insert_s:.1f} s")
        date_from = (today - timedelta(days=89)).date().isoformat()
        date_to = today.date().isoformat()
        one = timed(registry, admin, setup["teams"][0], date_from, date_to, args.repeat)
        every = timed(registry, admin, False, date_from, date_to, args.repeat)
        print(f"\nlead_dashboard figures, last 90 days, {args.leads:,} leads in {N_TEAMS} teams "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"{'scenario':36} {'median':>10} {'min':>10} {'cpu py+pg':>10}  leads counted")
        for label, (med, low, cpu_s, data) in (("one team (target < 500 ms)", one),
                                                ("all teams (target < 2 s)", every)):
            print(f"{label:36} {med * 1000:7.1f} ms {low * 1000:7.1f} ms {cpu_s * 1000:7.1f} ms"
                  f"  {data['totals']['leads']['value']:,}")
        print(f"\ntotal run time {time.perf_counter() - t0:.1f} s")
    finally:
        odoo.sql_db.close_all()
        if not args.keep:
            subprocess.run(["dropdb", "--if-exists", args.db], check=False)


if __name__ == "__main__":
    sys.exit(main())
