#!/usr/bin/env python3
"""Scale benchmark: the same figures at 10,000 leads and at N leads, in one run.

Fills a database by SQL up to N leads (default 1,000,000): 90 % closed (won
or lost), 10 % open and owned by the pool's 20 agents, created over 400 days.
At 10,000 leads, then again at N, it prints:

1. what routing and the SLA clock add to one ``crm.lead.create`` (p50/p95 of
   creates routed by one rule vs the same creates without routing), for round
   robin, weighted and least loaded, without and with an open-lead cap;
2. backlog routing of B waiting leads (default 10,000) against Odoo's
   ``crm.team._action_assign_leads`` on the same leads, in the same run;
3. the SLA sweep, the follow-up planner, the backlog cron with nothing due
   and the daily recount of the kept open-lead counts;
4. the read_group of the fairness, SLA and channel reports for one team and
   90 days;
5. EXPLAIN ANALYZE of the read of the kept open-lead counts (least loaded,
   caps), of the open-lead lookups (backlog search, an agent's open leads)
   and of the capture's lookup of a contact's open lead (phone E.164,
   contact ref, e-mail), as ``lead_channels`` runs it.

The filler's leads are inserted by SQL: the kept counts are then recounted
once (what install / update does), and that time is printed.

Every timed phase is rolled back. Usage::

    python3 tests/bench/bench_scale.py [--leads N] [--backlog B] [--creates C] [--db NAME]
                                       [--skip-odoo] [--profile FILE]

Without PGHOST it starts a throwaway PostgreSQL cluster (like ./scripts/test)
and installs the four addons without demo data.
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import odoo

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
from benchutil import cpu_clock  # noqa: E402

ODOO_PKG = os.path.dirname(os.path.abspath(odoo.__file__))
ADDONS = ",".join([os.path.join(os.path.dirname(ODOO_PKG), "addons"), os.path.join(ODOO_PKG, "addons"), REPO])
AGENTS = 20
STRATEGIES = ("round_robin", "weighted", "least_loaded")


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads in the database at the end")
    parser.add_argument("--backlog", type=int, default=10_000, help="waiting leads routed by both engines")
    parser.add_argument("--creates", type=int, default=100, help="timed creates per variant")
    parser.add_argument("--db", default="lead_scale_bench")
    parser.add_argument("--skip-odoo", action="store_true", help="no Odoo assignment phase (no ratio)")
    parser.add_argument("--profile", help="write a cProfile of our backlog routing (last size) to this file")
    return parser.parse_args()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def start_database(db):
    """A throwaway cluster unless PGHOST is set; the database with the four addons."""
    cluster = None
    if not os.environ.get("PGHOST"):
        from devenv import Cluster
        cluster = Cluster()
        cluster.start()
        os.environ.update(PGHOST="127.0.0.1", PGPORT=str(cluster.port), PGUSER=cluster.user)
    exists = subprocess.run(["psql", "-d", "postgres", "-Atc", "SELECT 1 FROM pg_database WHERE datname = '%s'" % db],
                            capture_output=True, text=True).stdout.strip()
    if not exists:
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "odoo", "-d", db, "--addons-path=%s" % ADDONS,
                        "--db_host", os.environ["PGHOST"], "--db_port", os.environ.get("PGPORT", "5432"),
                        "-i", "lead_sla,lead_channels", "--without-demo=all", "--stop-after-init",
                        "--log-level=warn"], check=True)
        print("database %s installed in %.0f s" % (db, time.time() - t0), flush=True)
    return cluster


def setup(env):
    """One team of 20 agents (the pool), one routing rule on it; committed."""
    group = env.ref("sales_team.group_sale_salesman")
    users = env["res.users"].with_context(no_reset_password=True).create([{
        "name": "Scale Agent %02d" % i, "login": "scale_agent_%02d" % i, "tz": "UTC",
        "groups_id": [(6, 0, [group.id])]} for i in range(AGENTS)])
    team = env["crm.team"].create({"name": "Scale Team", "use_leads": True, "use_opportunities": True,
                                   "assignment_domain": "[('referred', '=', 'scale')]"})
    members = env["crm.team.member"].create([{
        "crm_team_id": team.id, "user_id": u.id, "assignment_max": 1500,
        "lead_weight": 1.0 + (i % 3) * 0.5} for i, u in enumerate(users)])
    env["lead.routing.rule"].search([]).active = False
    rule = env["lead.routing.rule"].create({
        "name": "Scale", "team_id": team.id, "domain": "[('referred', '=', 'scale')]",
        "fallback": "unassigned"})
    env.cr.commit()
    return users, team, members, rule


def fill(cr, upto, users, team):
    """Insert leads by SQL up to ``upto``: 90 % closed, 10 % open owned by
    the agents, created over 400 days (no routing, no scoring: filler)."""
    cr.execute("SELECT count(*) FROM crm_lead")
    have = cr.fetchone()[0]
    if have >= upto:
        return 0
    t0 = time.time()
    cr.execute("SELECT id FROM crm_stage WHERE is_won ORDER BY sequence LIMIT 1")
    won_stage = cr.fetchone()[0]
    cr.execute("SELECT id FROM crm_stage WHERE is_won IS NOT TRUE ORDER BY sequence LIMIT 1")
    new_stage = cr.fetchone()[0]
    cr.execute("SELECT id FROM crm_lost_reason ORDER BY id LIMIT 1")
    reason = cr.fetchone()[0]
    cr.execute("SELECT company_id FROM crm_team WHERE id = %s", [team.id])
    company = cr.fetchone()[0]
    cr.execute("""
        INSERT INTO crm_lead (name, type, active, probability, user_id, team_id, company_id, stage_id,
                              lead_timeline, priority, create_date, write_date, date_open,
                              create_uid, write_uid, referred, phone, phone_sanitized,
                              email_from, email_normalized, channel_contact_ref,
                              date_closed, lost_reason_id, lead_score)
        SELECT 'Filler ' || g, 'opportunity',
               g %% 10 <> 1,                                           -- lost: archived
               CASE WHEN g %% 10 = 0 THEN 10 WHEN g %% 10 = 1 THEN 0 ELSE 100 END,
               (%(users)s::int[])[1 + (g / 10) %% %(n)s], %(team)s, %(company)s,
               CASE WHEN g %% 10 IN (0, 1) THEN %(new)s ELSE %(won)s END,
               'unknown', '0', d, d, d, 1, 1, 'filler',
               '+601' || lpad(g::text, 8, '0'), '+601' || lpad(g::text, 8, '0'),
               'c' || g || '@example.com', 'c' || g || '@example.com',
               CASE WHEN g %% 3 = 0 THEN 'psid-' || g END,
               CASE WHEN g %% 10 <> 0 THEN d + interval '3 days' END,  -- closed 3 days later
               CASE WHEN g %% 10 = 1 THEN %(reason)s END,
               CASE WHEN g %% 10 = 1 THEN g %% 40 ELSE g %% 90 END   -- won leads score higher
          FROM generate_series(%(start)s, %(stop)s) g,
               LATERAL (SELECT now() AT TIME ZONE 'UTC' - (g %% 400) * interval '1 day'
                               - (g %% 86400) * interval '1 second' AS d) t
    """, {"users": users.ids, "n": len(users), "team": team.id, "company": company, "new": new_stage,
          "won": won_stage, "reason": reason, "start": have + 1, "stop": upto})
    cr.commit()
    print("filled %d -> %d leads in %.0f s" % (have, upto, time.time() - t0), flush=True)
    return upto - have


def recount(env):
    """The kept open-lead counts recounted after the SQL filler (as at
    install / update, and as the daily repair job does)."""
    t0 = time.perf_counter()
    fixed = env["lead.distribution.open.count"]._repair_open_counts()
    env.cr.commit()
    print("open-lead counts recounted (%d rows fixed) in %.0f ms" % (fixed, (time.perf_counter() - t0) * 1000),
          flush=True)


def analyze(db):
    import psycopg2
    _db, info = odoo.sql_db.connection_info_for(db)
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    with cnx.cursor() as cur:
        cur.execute("VACUUM ANALYZE crm_lead")
    cnx.close()


class Capture:
    """The SQL statements run by the ORM while active (to EXPLAIN them)."""
    queries = None

    def __enter__(self):
        Capture.queries = []
        self.orig = odoo.sql_db.Cursor.execute

        def execute(cursor, query, params=None, log_exceptions=True):
            if Capture.queries is not None:
                Capture.queries.append((query, params))
            return self.orig(cursor, query, params, log_exceptions)
        odoo.sql_db.Cursor.execute = execute
        return self

    def __exit__(self, *exc):
        odoo.sql_db.Cursor.execute = self.orig
        Capture.queries = None


def explain(cr, query, params=None):
    if isinstance(query, odoo.tools.SQL):
        query, params = query.code, query.params
    cr.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING) " + query, params)
    return "\n".join("    " + row[0] for row in cr.fetchall())


def timed_creates(env, rule, members, strategy, cap, creates):
    """Added by routing + SLA clock, interleaved with plain creates: wall
    p50/p95 (ms), CPU p50/p95 (ms, this process + its PostgreSQL backend:
    steadier on a shared machine), and the plain create's wall p95."""
    rule.strategy = strategy
    members.lead_max_open = 1_000_000 if cap else 0  # a cap never reached: only its cost
    env.flush_all()
    Lead = env["crm.lead"].with_context(mail_create_nolog=True)
    plain, routed, plain_cpu, routed_cpu = [], [], [], []

    def create(ctx, tag, i, cpu=None):
        c0 = cpu_clock(env.cr)
        t = time.perf_counter()
        Lead.with_context(**ctx).create({"name": "Scale %s %d" % (tag, i), "type": "lead",
                                         "referred": "scale", "email_from": "s%d@example.com" % i})
        env.flush_all()
        env.cr.flush()  # what the commit runs (precommit hooks: the kept counts)
        wall = (time.perf_counter() - t) * 1000
        c1 = cpu_clock(env.cr)
        if cpu is not None and c0 is not None and c1 is not None:
            cpu.append((c1 - c0) * 1000)
        return wall

    for i in range(10):
        create({"lead_distribution_no_route": True}, "warm", i)
        create({}, "warm", i)
    for i in range(creates):
        plain.append(create({"lead_distribution_no_route": True}, "plain", i, plain_cpu))
        routed.append(create({}, "routed", i, routed_cpu))
    cpu = (pct(routed_cpu, 50) - pct(plain_cpu, 50), pct(routed_cpu, 95) - pct(plain_cpu, 95)) \
        if routed_cpu and plain_cpu else (float("nan"), float("nan"))
    return pct(routed, 50) - pct(plain, 50), pct(routed, 95) - pct(plain, 95), cpu, pct(plain, 95)


def backlog(env, team, n, skip_odoo, profile=None):
    """(ours leads/s, Odoo leads/s) on the same n waiting leads."""
    Lead = env["crm.lead"].with_context(lead_distribution_no_route=True, tracking_disable=True,
                                        mail_create_nolog=True)
    rates = {}
    engines = [("ours", lambda: env["crm.lead"]._cron_lead_distribution_backlog())]
    if not skip_odoo:
        def odoo_assign():
            # Odoo hands each member assignment_max / 30 leads per run: a quota that
            # covers the whole backlog, so both engines route the same n leads
            team.crm_team_member_ids.assignment_max = -(-n * 30 // len(team.crm_team_member_ids))
            team._action_assign_leads(force_quota=True)
        engines.append(("odoo", odoo_assign))
    for name, run in engines:
        env.cr.execute("SAVEPOINT scale_backlog")
        for start in range(0, n, 1000):
            Lead.create([{"name": "Scale backlog %d" % i, "type": "lead", "user_id": False, "team_id": False,
                          "referred": "scale", "email_from": "b%d@example.com" % i}
                         for i in range(start, min(n, start + 1000))])
        env.flush_all()
        if name == "ours":
            env.cr.execute("UPDATE crm_lead SET lead_routing_pending = true "
                           "WHERE name LIKE 'Scale backlog %%' AND user_id IS NULL")
            env.invalidate_all()
        t0, c0 = time.time(), cpu_clock(env.cr)
        if profile and name == "ours":
            import cProfile
            cProfile.runctx("run()", globals(), {"run": run}, profile)
        else:
            run()
        env.flush_all()
        elapsed, c1 = time.time() - t0, cpu_clock(env.cr)
        env.cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'Scale backlog %%' AND user_id IS NOT NULL")
        done = env.cr.fetchone()[0]
        rates[name] = (done, elapsed, (c1 - c0) if c0 is not None and c1 is not None else None)
        env.cr.execute("ROLLBACK TO SAVEPOINT scale_backlog")
        env.invalidate_all()
        env.registry.clear_cache()
    return rates


def crons(env):
    """Median ms of 5 runs of each cron with nothing due."""
    Lead = env["crm.lead"]
    jobs = {"SLA sweep": "_cron_lead_sla_sweep", "follow-up planner": "_cron_lead_sla_followup",
            "backlog": "_cron_lead_distribution_backlog"}
    result = {}
    for label, method in jobs.items():
        if not hasattr(Lead, method):
            continue
        times = []
        for _i in range(5):
            env.cr.execute("SAVEPOINT scale_cron")
            t = time.perf_counter()
            getattr(Lead, method)()
            env.flush_all()
            times.append((time.perf_counter() - t) * 1000)
            env.cr.execute("ROLLBACK TO SAVEPOINT scale_cron")
            env.invalidate_all()
        result[label] = statistics.median(times)
    times = []
    for _i in range(3):
        t = time.perf_counter()
        env["lead.distribution.open.count"]._cron_repair_open_counts()
        times.append((time.perf_counter() - t) * 1000)
    result["open-count recount (daily)"] = statistics.median(times)
    return result


def reports(env, team):
    """ms of the default read_group of each report, one team, 90 days."""
    since = odoo.fields.Datetime.subtract(odoo.fields.Datetime.now(), days=90)
    specs = {
        "fairness": ("lead.distribution.fairness", [("month", ">=", since.date())], ["user_id"]),
        "SLA": ("lead.sla.report", [("sla_start", ">=", since)], ["user_id"]),
        "channel": ("lead.channel.report", [("create_date", ">=", since)], ["channel_id"]),
    }
    result = {}
    for label, (model, domain, groupby) in specs.items():
        if model not in env:
            continue
        times = []
        for _i in range(3):
            env.invalidate_all()
            t = time.perf_counter()
            env[model].read_group(domain + [("team_id", "=", team.id)], ["__count"], groupby, lazy=False)
            times.append((time.perf_counter() - t) * 1000)
        result[label] = min(times)
    # Scoring Health: won and lost leads closed in the last 90 days against every scoring rule
    times = []
    for _i in range(3):
        env.invalidate_all()
        t = time.perf_counter()
        env["lead.scoring.health"].create({}).action_compute()
        times.append((time.perf_counter() - t) * 1000)
    result["health"] = min(times)  # Scoring Health, the whole company
    return result


def contact_lookups(env):
    """(label, query) of lead_channels' lookup of a contact's open lead, run
    by its own code: phone (E.164), contact ref, e-mail, each alone."""
    if "lead.channel.capture" not in env:
        return []
    Capture_ = env["lead.channel.capture"]
    event = env["lead.channel.event"].new({"company_id": env.company.id}) \
        if "lead.channel.event" in env else None
    keys = {"phone E.164": ("+60100004242", None, None),
            "contact ref": (None, "psid-4242", None),
            "e-mail": (None, None, "c4242@example.com")}
    out = []
    for label, (phone, ref, email) in keys.items():
        env.cr.execute("SAVEPOINT scale_lookup")
        with Capture():
            Capture_._find_open_lead(event, phone, ref, email)
            queries = [q for q in Capture.queries if "FROM \"crm_lead\"" in str(getattr(q[0], "code", q[0]))]
        if queries:
            out.append(("a contact's open lead by %s (capture)" % label, explain(env.cr, *queries[-1])))
        env.cr.execute("ROLLBACK TO SAVEPOINT scale_lookup")
    return out


def plans(env, users, team):
    """EXPLAIN ANALYZE of the open-lead count read and the open-lead lookups."""
    Rule = env["lead.routing.rule"]
    out = []
    with Capture():
        Rule._open_lead_counts(users, env["crm.lead"])
        queries = [q for q in Capture.queries if "lead_distribution_open_count" in str(getattr(q[0], "code", q[0]))]
    if queries:
        out.append(("kept open-lead counts of the pool (least loaded / caps)", explain(env.cr, *queries[-1])))
    Lead = env["crm.lead"].sudo()
    lookups = {
        "backlog search (waiting open leads)": [("lead_routing_pending", "=", True)] + Lead._lead_open_domain(),
        "an agent's open leads (transfer wizard)": [("user_id", "=", users[0].id)] + Lead._lead_open_domain(),
    }
    for label, domain in lookups.items():
        out.append((label, explain(env.cr, Lead._search(domain, order="id").select())))
    return out + contact_lookups(env)


def measure(env, label, users, team, members, rule, args):
    print("\n=== %s ===" % label, flush=True)
    env.cr.execute("SAVEPOINT scale_measure")
    for strategy in STRATEGIES:
        for cap in (False, True):
            p50, p95, cpu, base = timed_creates(env, rule, members, strategy, cap, args.creates)
            print("create + routing + SLA clock, %-12s %-8s: added wall p50 %5.1f ms  p95 %5.1f ms; "
                  "added CPU p50 %5.1f ms  p95 %5.1f ms (plain create wall p95 %.1f ms)" % (
                      strategy, "capped" if cap else "no cap", p50, p95, cpu[0], cpu[1], base), flush=True)
            env.cr.execute("ROLLBACK TO SAVEPOINT scale_measure")
            env.invalidate_all()
    rule.strategy, members.lead_max_open = "round_robin", 0
    for name, ms in crons(env).items():
        print("cron %-18s nothing due: %6.1f ms" % (name, ms), flush=True)
    for name, ms in reports(env, team).items():
        print("report %-9s (90 days%s): %6.1f ms" % (name, "" if name == "health" else ", one team", ms), flush=True)
    rates = backlog(env, team, args.backlog, args.skip_odoo, args.profile)
    for name, (done, elapsed, cpu) in rates.items():
        print("backlog %-4s: %d/%d leads in %.2f s = %.1f leads/s%s" % (
            name, done, args.backlog, elapsed, done / elapsed if elapsed else 0,
            " (%.2f CPU-s)" % cpu if cpu else ""), flush=True)
    if "odoo" in rates and rates["odoo"][0]:
        ours, theirs = rates["ours"], rates["odoo"]
        print("backlog ratio: %.1fx wall" % ((ours[0] / ours[1]) / (theirs[0] / theirs[1]))
              + (", %.1fx CPU" % ((ours[0] / ours[2]) / (theirs[0] / theirs[2])) if ours[2] and theirs[2] else ""))
    for name, plan in plans(env, users, team):
        print("plan of %s:\n%s" % (name, plan), flush=True)
    env.cr.execute("ROLLBACK TO SAVEPOINT scale_measure")
    env.invalidate_all()


def main():
    args = parse()
    cluster = start_database(args.db)
    try:
        odoo.tools.config.parse_config(["-d", args.db, "--addons-path=%s" % ADDONS, "--log-level=warn",
                                        "--db_host", os.environ["PGHOST"],
                                        "--db_port", os.environ.get("PGPORT", "5432")])
        registry = odoo.modules.registry.Registry(args.db)
        threading.current_thread().testing = True  # Odoo's assignment: no intermediate commits
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            users = env["res.users"].search([("login", "like", "scale_agent_%")], order="login")
            if users:
                team = env["crm.team"].search([("name", "=", "Scale Team")], limit=1)
                members = team.crm_team_member_ids
                rule = env["lead.routing.rule"].search([("name", "=", "Scale")], limit=1)
            else:
                users, team, members, rule = setup(env)
            for size in sorted({min(10_000, args.leads), args.leads}):
                if fill(cr, size, users, team):
                    recount(env)
                analyze(args.db)
                measure(env, "%d leads in the database" % size, users, team, members, rule, args)
            cr.rollback()
        # the cost of the partial index on the filled table, as at install
        with registry.cursor() as cr:
            cr.execute("DROP INDEX IF EXISTS crm_lead_open_user_id_index")
            t0 = time.time()
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["crm.lead"].init()
            print("\npartial index crm_lead_open_user_id_index built in %.2f s at %d leads"
                  % (time.time() - t0, args.leads))
            cr.commit()
    finally:
        if cluster and not os.environ.get("KEEP_CLUSTER"):
            cluster.stop()


if __name__ == "__main__":
    main()
