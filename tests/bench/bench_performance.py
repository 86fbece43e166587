#!/usr/bin/env python3
"""Benchmark of the performance-tier recomputation (lead_distribution, issue 13).

Target: ``crm.team._lead_update_performance()`` for 50 teams / 500 members over
1,000,000 closed leads in < 2 s (the daily cron's work: one grouped query, the
members' figures, tiers and weights written, one chatter note per team).

Setup (filled by SQL, committed once, reused by later runs of the same
database): 50 teams of 10 agents, all with performance weighting on; N closed
leads (half won in a won stage, half lost = archived with probability 0),
owned round-robin by the agents of their team, closed uniformly over the last
``--spread-days`` days (default 180: about half fall in the 90-day window).
Each timed run is rolled back (a savepoint), so runs are comparable.

Usage::

    python3 tests/bench/bench_performance.py [--leads 1000000] [--runs 3] [--spread-days 180] [--db NAME]

Without PGHOST (or db_host in the Odoo config) a throwaway PostgreSQL cluster is
started and removed at the end (as ./scripts/test does).
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import odoo
from odoo.tools import SQL

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
from benchutil import cpu_clock  # noqa: E402
from devenv import Cluster, configured_db, core_addons_path, odoo_rc  # noqa: E402

N_TEAMS, PER_TEAM = 50, 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spread-days", type=int, default=180)
    parser.add_argument("--db", default="lead_perf_bench")
    return parser.parse_args()


def install(db, addons):
    exists = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    if any(line.split("|")[0].strip() == db for line in exists.splitlines()):
        return
    print("creating database %s and installing lead_distribution..." % db, flush=True)
    subprocess.run(["createdb", db], check=True)
    subprocess.run([sys.executable, "-m", "odoo", "-d", db, "--addons-path=%s" % addons,
                    "-i", "lead_distribution", "--without-demo=all", "--stop-after-init",
                    "--log-level=warn"], check=True)


def setup_teams(env):
    """50 teams x 10 agents, weighting on (set by SQL: no recomputation yet)."""
    teams = env["crm.team"].search([("name", "=like", "Perf Team %")], order="id")
    if teams:
        return teams
    group = env.ref("sales_team.group_sale_salesman")
    users = env["res.users"].with_context(no_reset_password=True, tracking_disable=True).create([{
        "name": "Perf Agent %03d" % i, "login": "perf_agent_%03d" % i,
        "groups_id": [(6, 0, [group.id])], "tz": "UTC",
    } for i in range(N_TEAMS * PER_TEAM)])
    teams = env["crm.team"].with_context(tracking_disable=True).create([{
        "name": "Perf Team %02d" % t, "use_leads": True, "use_opportunities": True,
    } for t in range(N_TEAMS)])
    env["crm.team.member"].with_context(tracking_disable=True).create([{
        "crm_team_id": teams[t].id, "user_id": users[t * PER_TEAM + k].id,
    } for t in range(N_TEAMS) for k in range(PER_TEAM)])
    env.flush_all()
    env.cr.execute("UPDATE crm_team SET lead_performance_weighting = true WHERE id = ANY(%s)", [teams.ids])
    env.invalidate_all()
    return teams


def fill_leads(env, teams, n, spread_days):
    """``n`` closed leads by SQL (one INSERT ... SELECT), committed."""
    env.cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'Perf closed %%'")
    have = env.cr.fetchone()[0]
    if have == n:
        return
    env.cr.execute("DELETE FROM crm_lead WHERE name LIKE 'Perf closed %%'")
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    lost_stage = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    members = env["crm.team.member"].search([("crm_team_id", "in", teams.ids)], order="id")
    member_users = [m.user_id.id for m in members]
    member_teams = [m.crm_team_id.id for m in members]
    # one lead made by the ORM gives every other column (the addons' NOT NULL
    # ones too) its normal value; the closed leads copy it
    template = env["crm.lead"].with_context(lead_distribution_no_route=True).create(
        {"name": "Perf template", "type": "opportunity"})
    env.flush_all()
    set_columns = ["name", "type", "active", "probability", "stage_id", "user_id", "team_id",
                   "company_id", "date_closed", "date_open", "create_date", "write_date"]
    env.cr.execute("""SELECT column_name FROM information_schema.columns
                       WHERE table_name = 'crm_lead' AND column_name != ALL(%s)""", [["id"] + set_columns])
    copied = [name for (name,) in env.cr.fetchall()]
    t0 = time.time()
    # won rate 20, 30 or 40 % depending on the agent, so that the tiers differ
    env.cr.execute(SQL("""
        INSERT INTO crm_lead (%(set_cols)s, %(copied)s)
        SELECT 'Perf closed ' || g, 'opportunity', w.won, CASE WHEN w.won THEN 100 ELSE 0 END,
               CASE WHEN w.won THEN %(won)s ELSE %(lost)s END,
               (%(users)s::int[])[1 + mod(g, %(m)s)], (%(teams)s::int[])[1 + mod(g, %(m)s)],
               %(company)s, now() at time zone 'UTC' - (g::float * %(spread)s * 1440 / %(n)s) * interval '1 minute',
               now() at time zone 'UTC' - interval '400 days',
               now() at time zone 'UTC' - interval '400 days', now() at time zone 'UTC',
               %(copied_t)s
          FROM generate_series(1, %(n)s) g
          JOIN crm_lead t ON t.id = %(template)s,
               LATERAL (SELECT mod(g, 10) < 2 + mod(mod(g, %(m)s), 3) AS won) w
    """, set_cols=SQL(", ").join(SQL.identifier(c) for c in set_columns),
        copied=SQL(", ").join(SQL.identifier(c) for c in copied),
        copied_t=SQL(", ").join(SQL.identifier("t", c) for c in copied),
        won=won_stage.id, lost=lost_stage.id, users=member_users, teams=member_teams,
        m=len(member_users), company=env.company.id, spread=spread_days, n=n, template=template.id))
    template.unlink()
    env.cr.execute("ANALYZE crm_lead")
    env.cr.commit()
    print("%d closed leads inserted in %.1fs" % (n, time.time() - t0), flush=True)


def main():
    args = parse_args()
    rc = odoo_rc()
    cluster = None
    if not configured_db(rc):
        cluster = Cluster()
        cluster.start()
        os.environ.update(PGHOST="127.0.0.1", PGPORT=str(cluster.port), PGUSER=cluster.user)
    try:
        addons = ",".join(core_addons_path(rc) + [REPO])
        install(args.db, addons)
        odoo.tools.config.parse_config(["-d", args.db, "--addons-path=%s" % addons, "--log-level=warn",
                                        "--db_host", os.environ["PGHOST"], "--db_port", os.environ["PGPORT"]])
        registry = odoo.modules.registry.Registry(args.db)
        threading.current_thread().testing = False
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            teams = setup_teams(env)
            cr.commit()
            fill_leads(env, teams, args.leads, args.spread_days)
            cr.execute("SELECT count(*) FROM crm_lead WHERE date_closed >= now() at time zone 'UTC' - interval '90 days'"
                       " AND name LIKE 'Perf closed %%'")
            in_window = cr.fetchone()[0]
            print("%d teams, %d members, %d closed leads (%d in the 90-day window)" % (
                len(teams), len(teams.crm_team_member_ids), args.leads, in_window), flush=True)
            Teams = env["crm.team"].browse(teams.ids)
            t0 = time.time()
            Teams._lead_performance_figures(odoo.fields.Datetime.now())
            print("the grouped query alone: %.3f s wall" % (time.time() - t0), flush=True)
            walls, cpus = [], []
            for run in range(args.runs + 1):  # the first run warms the caches, not counted
                cr.execute("SAVEPOINT perf_run")
                env.invalidate_all()
                t0, c0 = time.time(), cpu_clock(cr)
                env["crm.team"].browse(teams.ids)._lead_update_performance()
                env.flush_all()
                wall, cpu = time.time() - t0, cpu_clock(cr)
                if run:
                    walls.append(wall)
                    if cpu is not None and c0 is not None:
                        cpus.append(cpu - c0)
                tiers = env["crm.team.member"].read_group(
                    [("crm_team_id", "in", teams.ids)], ["lead_performance_tier"], ["lead_performance_tier"])
                cr.execute("ROLLBACK TO SAVEPOINT perf_run")
                print("run %d%s: %.3f s wall%s; tiers %s" % (
                    run, " (warm-up)" if not run else "", wall,
                    ", %.3f s CPU (Odoo + PostgreSQL)" % (cpu - c0) if cpu is not None and c0 is not None else "",
                    {g["lead_performance_tier"]: g["lead_performance_tier_count"] for g in tiers}), flush=True)
            print("median of %d runs: %.3f s wall%s (target < 2 s)" % (
                len(walls), statistics.median(walls),
                ", %.3f s CPU" % statistics.median(cpus) if cpus else ""), flush=True)
            cr.rollback()
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
