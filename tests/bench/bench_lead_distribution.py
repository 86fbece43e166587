#!/usr/bin/env python3
"""Benchmark of lead_distribution against Odoo's own lead assignment.

Runs in one process, on one throwaway database, the same agents and teams:

1. Odoo's ``crm.team._action_assign_leads`` on the same unassigned leads
   (by default the full backlog, like ours: Odoo's rate drops as the backlog
   grows, so a smaller sample, LD_BENCH_ODOO_SAMPLE, flatters Odoo) -> leads/s;
2. our backlog routing (``crm.lead._cron_lead_distribution_backlog``) on
   the full backlog of unassigned leads -> leads/s and the ratio;
3. the latency routing adds to a single ``crm.lead.create``: p50/p95 of N
   creates with 20 active rules vs the same creates without routing.

Every phase is rolled back, so the database can be reused; neither engine
may commit while it is timed (a commit raises).

Usage::

    python3 tests/bench/bench_lead_distribution.py [DBNAME]

Environment: LD_BENCH_DB (default ``lead_dist_bench``), LD_BENCH_LEADS (10000),
LD_BENCH_ODOO_SAMPLE (= LD_BENCH_LEADS), LD_BENCH_CREATES (200), LD_BENCH_TIMEOUT (1200 s),
LD_BENCH_ADDONS (addons path; default: Odoo's own addons + this repository).
For iterating on our side only: LD_BENCH_SKIP_ODOO=1 (no Odoo phase, no ratio),
LD_BENCH_SKIP_LATENCY=1 (no single-create phase), LD_BENCH_PROFILE=FILE (cProfile
of our backlog phase written to FILE; adds overhead, so not for the figures),
LD_BENCH_SQLTIME=1 (time of each statement of our backlog phase, summed by statement),
LD_BENCH_SAME_TX=1 (the backlog's leads created in the timed transaction instead of
committed before it: PostgreSQL then re-checks every foreign key of each updated lead),
LD_BENCH_REPEAT=N (our backlog phase N times, the median CPU kept), LD_BENCH_DIGEST=1
(digest of what the backlog phase produced: owners, crm recomputed fields, logs, chatter
notes, rotation state and shares, by names -- equal digests = same outcome).
The database is created and lead_distribution installed (without demo data)
when it does not exist.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import odoo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import cpu_clock  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ODOO_PKG = os.path.dirname(os.path.abspath(odoo.__file__))
DEFAULT_ADDONS = ",".join([os.path.join(os.path.dirname(ODOO_PKG), "addons"),
                           os.path.join(ODOO_PKG, "addons"), REPO])

DB = (sys.argv[1] if len(sys.argv) > 1 else None) or os.environ.get("LD_BENCH_DB", "lead_dist_bench")
ADDONS = os.environ.get("LD_BENCH_ADDONS", DEFAULT_ADDONS)
N_LEADS = int(os.environ.get("LD_BENCH_LEADS", 10000))
N_ODOO = int(os.environ.get("LD_BENCH_ODOO_SAMPLE", N_LEADS))
N_CREATES = int(os.environ.get("LD_BENCH_CREATES", 200))
TIMEOUT = int(os.environ.get("LD_BENCH_TIMEOUT", 1200))
SKIP_ODOO = bool(os.environ.get("LD_BENCH_SKIP_ODOO"))
SKIP_LATENCY = bool(os.environ.get("LD_BENCH_SKIP_LATENCY"))
PROFILE = os.environ.get("LD_BENCH_PROFILE")
SQLTIME = bool(os.environ.get("LD_BENCH_SQLTIME"))
# A backlog is made of leads committed earlier. Routing leads inserted by its own
# transaction makes PostgreSQL re-check every foreign key of each updated row
# (not only those of the changed columns), which no real backlog pays.
# LD_BENCH_SAME_TX=1 keeps the earlier way (leads created in the timed transaction).
COMMITTED = not os.environ.get("LD_BENCH_SAME_TX")
RUN = "%x" % int(time.time())
REPEAT = int(os.environ.get("LD_BENCH_REPEAT", 1))
DIGEST = bool(os.environ.get("LD_BENCH_DIGEST"))
SQL_STATS = {}  # statement head -> [count, seconds], filled while SQL_TIMING[0]
SQL_TIMING = [False]


def install_sql_timer():
    """Sum the time of each statement (by its first 110 characters), including
    the execute_values() our models run on the raw cursor."""
    import re

    import psycopg2.extras

    def record(query, seconds):
        text = query.decode() if isinstance(query, bytes) else str(query)
        head = re.sub(r"\s+", " ", text).strip()
        head = re.sub(r'"__tmp"\."(\w+)"::[\w ]+', r"\1", head)[:int(os.environ.get("LD_BENCH_SQLTIME_WIDTH", 110))]
        stat = SQL_STATS.setdefault(head, [0, 0.0])
        stat[0] += 1
        stat[1] += seconds

    orig_execute = odoo.sql_db.Cursor.execute

    def execute(self, query, params=None, log_exceptions=True):
        if not SQL_TIMING[0]:
            return orig_execute(self, query, params, log_exceptions)
        t = time.perf_counter()
        try:
            return orig_execute(self, query, params, log_exceptions)
        finally:
            record(getattr(query, "code", query), time.perf_counter() - t)

    orig_values = psycopg2.extras.execute_values

    def execute_values(cur, sql, argslist, *args, **kwargs):
        if not SQL_TIMING[0]:
            return orig_values(cur, sql, argslist, *args, **kwargs)
        t = time.perf_counter()
        try:
            return orig_values(cur, sql, argslist, *args, **kwargs)
        finally:
            record(sql, time.perf_counter() - t)

    odoo.sql_db.Cursor.execute = execute
    psycopg2.extras.execute_values = execute_values
N_TEAMS, PER_TEAM = 20, 10


def ensure_db():
    exists = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    if any(line.split("|")[0].strip() == DB for line in exists.splitlines()):
        return
    print("creating database %s and installing lead_distribution..." % DB, flush=True)
    subprocess.run(["createdb", DB], check=True)
    subprocess.run([sys.executable, "-m", "odoo", "-d", DB, "--addons-path=%s" % ADDONS,
                    "-i", "lead_distribution", "--without-demo=all", "--stop-after-init",
                    "--log-level=warn"], check=True)


class NoCommit:
    """A commit inside a timed phase would make the comparison unfair (and
    keep bench data): make it fail loudly."""

    def __init__(self, cr):
        self.cr = cr

    def __enter__(self):
        def refuse():
            raise RuntimeError("commit inside a timed benchmark phase")
        self.cr.commit = refuse

    def __exit__(self, *exc):
        del self.cr.commit


VACUUMED = ("crm_lead", "mail_message", "mail_followers", "mail_followers_mail_message_subtype_rel",
            "mail_tracking_value", "mail_notification", "lead_assignment_log",
            "lead_distribution_share", "lead_routing_state", "lead_routing_rule")


def vacuum():
    """Remove the dead rows a rolled back phase left in the tables and their
    indexes (from another connection: they belong to an aborted savepoint), so
    that each engine starts from the same clean tables instead of the second
    one paying for the first one's bloat."""
    import psycopg2
    _db, info = odoo.sql_db.connection_info_for(DB)
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    with cnx.cursor() as cur:
        cur.execute("SELECT t FROM unnest(%s) t WHERE to_regclass(t) IS NOT NULL", [list(VACUUMED)])
        cur.execute("VACUUM " + ", ".join(t for (t,) in cur.fetchall()))
    cnx.close()


def outcome_digest(cr):
    """md5 of everything the backlog routing produced, independent of ids."""
    queries = [
        """SELECT l.name, %(u)s, t.name::text, l.company_id, l.probability, l.automated_probability,
                  l.lead_routing_pending, l.day_open, l.lead_properties::text, l.prorated_revenue,
                  l.stage_id, l.date_open IS NOT NULL, l.date_last_stage_update IS NOT NULL,
                  l.lead_score, l.lead_tier, l.active, l.type
             FROM crm_lead l LEFT JOIN res_users u ON u.id = l.user_id
             LEFT JOIN crm_team t ON t.id = l.team_id
            WHERE l.name LIKE 'Bench ours %%' ORDER BY l.id""",
        """SELECT l.name, %(u)s, %(p)s, t.name::text, r.name::text, g.strategy, g.kind, g.reason,
                  g.company_id
             FROM lead_assignment_log g JOIN crm_lead l ON l.id = g.lead_id
             LEFT JOIN res_users u ON u.id = g.user_id LEFT JOIN res_users p ON p.id = g.previous_user_id
             LEFT JOIN crm_team t ON t.id = g.team_id LEFT JOIN lead_routing_rule r ON r.id = g.rule_id
            WHERE l.name LIKE 'Bench ours %%' ORDER BY g.id""",
        """SELECT l.name, m.body, m.message_type, m.subtype_id, m.author_id, m.record_company_id,
                  m.is_internal
             FROM mail_message m JOIN crm_lead l ON l.id = m.res_id AND m.model = 'crm.lead'
            WHERE l.name LIKE 'Bench ours %%' ORDER BY m.id""",
        """SELECT r.name::text, %(u)s, s.current_weight, s.assigned_count
             FROM lead_routing_state s JOIN lead_routing_rule r ON r.id = s.rule_id
             JOIN res_users u ON u.id = s.user_id ORDER BY 1, 2""",
        """SELECT t.name::text, %(u)s, s.expected, s.received
             FROM lead_distribution_share s JOIN crm_team t ON t.id = s.team_id
             JOIN res_users u ON u.id = s.user_id ORDER BY 1, 2""",
        """SELECT count(*) FROM mail_followers f JOIN crm_lead l ON l.id = f.res_id
            WHERE f.res_model = 'crm.lead' AND l.name LIKE 'Bench ours %%'""",
    ]
    import hashlib
    # logins carry the run's tag: compare them without it
    logins = {alias: "regexp_replace(%s.login, '^bench_agent_[0-9a-f]+_', 'bench_agent_')" % alias
              for alias in ("u", "p")}
    digest = hashlib.md5()
    for query in queries:
        cr.execute(query.replace("%%", "%%%%") % logins if "%(" in query else query)
        digest.update(repr(cr.fetchall()).encode())
    return digest.hexdigest()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def setup_agents(env):
    """200 agents in 20 teams, one routing rule per team (by lead source)."""
    group = env.ref("sales_team.group_sale_salesman")
    users = env["res.users"].with_context(no_reset_password=True).create([{
        "name": "Bench Agent %03d" % i, "login": "bench_agent_%s_%03d" % (RUN, i),
        "groups_id": [(6, 0, [group.id])], "tz": "UTC",
    } for i in range(N_TEAMS * PER_TEAM)])
    teams = env["crm.team"].create([{
        "name": "Bench Team %02d" % t, "use_leads": True, "use_opportunities": True,
        "assignment_domain": "[('referred', '=', 'T%02d')]" % t,
    } for t in range(N_TEAMS)])
    env["crm.team.member"].create([{
        "crm_team_id": teams[t].id, "user_id": users[t * PER_TEAM + k].id,
        "assignment_max": 1500, "lead_weight": 1.0 + (k % 3) * 0.5,
    } for t in range(N_TEAMS) for k in range(PER_TEAM)])
    env["lead.routing.rule"].search([]).active = False
    env["lead.routing.rule"].create([{
        "name": "Bench %02d" % t, "team_id": teams[t].id, "sequence": t,
        "domain": "[('referred', '=', 'T%02d')]" % t,
        "strategy": ("round_robin", "weighted", "least_loaded")[t % 3],
        "fallback": "unassigned",
    } for t in range(N_TEAMS)])
    return users, teams


def make_leads(env, n, pending, tag):
    Lead = env["crm.lead"].with_context(
        lead_distribution_no_route=True, tracking_disable=True, mail_create_nolog=True)
    for start in range(0, n, 1000):
        Lead.create([{
            "name": "Bench %s %d" % (tag, i), "type": "lead", "user_id": False, "team_id": False,
            "referred": "T%02d" % (i % N_TEAMS),
            "email_from": "bench.%s.%d@example.com" % (tag, i),
        } for i in range(start, min(n, start + 1000))])
    env.flush_all()
    if pending:
        env.cr.execute("UPDATE crm_lead SET lead_routing_pending = true "
                       "WHERE user_id IS NULL AND name LIKE %s", ["Bench %s %%" % tag])
        env.invalidate_all()


def purge_leads(cr, tags=("odoo", "ours", "routed", "plain", "warm")):
    """Committed mode: remove the bench's committed leads (and an interrupted run's)."""
    cr.execute("DELETE FROM crm_lead WHERE name LIKE ANY(%s)", [["Bench %s %%" % tag for tag in tags]])


def main():
    signal.alarm(TIMEOUT)
    ensure_db()
    if SQLTIME:
        install_sql_timer()
    odoo.tools.config.parse_config(["-d", DB, "--addons-path=%s" % ADDONS, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(DB)
    threading.current_thread().testing = True  # Odoo's assignment: no intermediate commits
    results = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        def checkpoint():
            """Commit what precedes (committed mode), then mark the state each phase returns to."""
            env.flush_all()
            if COMMITTED:
                cr.commit()
            cr.execute("SAVEPOINT bench_agents")

        def back_to_checkpoint():
            cr.execute("ROLLBACK TO SAVEPOINT bench_agents")
            env.invalidate_all()
            if COMMITTED:  # the phase's leads were committed: remove them
                purge_leads(cr)
                checkpoint()

        if COMMITTED:
            purge_leads(cr)
        print("backlog leads %s" % ("committed before each phase (a real backlog)" if COMMITTED
                                    else "created in the timed transaction (LD_BENCH_SAME_TX)"), flush=True)
        t0 = time.time()
        users, teams = setup_agents(env)
        checkpoint()
        print("agents/teams/rules ready in %.1fs" % (time.time() - t0), flush=True)
        vacuum()

        # 1. Odoo's assignment on the same leads (or a sample)
        if SKIP_ODOO:
            print("Odoo phase skipped (LD_BENCH_SKIP_ODOO)", flush=True)
        else:
            make_leads(env, N_ODOO, pending=False, tag="odoo")
            if COMMITTED:
                checkpoint()
            t0, c0 = time.time(), cpu_clock(cr)
            with NoCommit(cr):
                teams._action_assign_leads(force_quota=True)
                # up to the commit: the ORM's flush and the pre-commit hooks, where
                # Odoo writes its tracking messages (the owner changes)
                cr.flush()
            elapsed, cpu = time.time() - t0, cpu_clock(cr)
            cpu = cpu - c0 if c0 is not None and cpu is not None else None
            cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'Bench odoo %%' AND user_id IS NOT NULL")
            assigned = cr.fetchone()[0]
            results["odoo"] = (assigned, elapsed, cpu)
            print("Odoo _action_assign_leads: %d/%d leads assigned in %.2fs = %.1f leads/s"
                  % (assigned, N_ODOO, elapsed, assigned / elapsed), flush=True)
            back_to_checkpoint()
            env.registry.clear_cache()
            vacuum()

        # 2. our backlog routing on the full backlog (LD_BENCH_REPEAT times, median kept)
        runs = []
        for _run in range(REPEAT):
            make_leads(env, N_LEADS, pending=True, tag="ours")
            if COMMITTED:
                checkpoint()
            t0, c0, p0 = time.time(), cpu_clock(cr), time.process_time()
            profiler = None
            if PROFILE:
                import cProfile
                profiler = cProfile.Profile()
                profiler.enable()
            SQL_TIMING[0] = SQLTIME
            with NoCommit(cr):
                env["crm.lead"]._cron_lead_distribution_backlog()
                cr.flush()  # up to the commit, as Odoo's side
            SQL_TIMING[0] = False
            if profiler:
                profiler.disable()
                profiler.dump_stats(PROFILE)
            elapsed, cpu, process = time.time() - t0, cpu_clock(cr), time.process_time() - p0
            cpu = cpu - c0 if c0 is not None and cpu is not None else None
            if cpu is not None:
                print("  CPU: %.2fs = Odoo process %.2fs + PostgreSQL backend %.2fs" % (cpu, process, cpu - process))
            cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'Bench ours %%' AND user_id IS NOT NULL")
            assigned = cr.fetchone()[0]
            runs.append((cpu if cpu is not None else elapsed, (assigned, elapsed, cpu)))
            if DIGEST:
                print("  outcome digest: %s" % outcome_digest(cr))
            print("lead_distribution backlog: %d/%d leads routed in %.2fs = %.1f leads/s"
                  % (assigned, N_LEADS, elapsed, assigned / elapsed), flush=True)
            cr.execute("SELECT max(c) - min(c) FROM (SELECT count(*) c FROM crm_lead "
                       "WHERE name LIKE 'Bench ours %%' GROUP BY user_id) s")
            print("  spread of leads per agent (max - min): %s" % cr.fetchone()[0])
            if SQL_STATS:
                print("  SQL of the backlog phase: %.2fs in %d statements" % (
                    sum(t for _n, t in SQL_STATS.values()), sum(n for n, _t in SQL_STATS.values())))
                for head, (n, t) in sorted(SQL_STATS.items(), key=lambda kv: -kv[1][1])[:25]:
                    print("  %7.3fs %4d  %s" % (t, n, head))
            back_to_checkpoint()
            env.registry.clear_cache()
            vacuum()

        runs.sort(key=lambda r: r[0])
        results["ours"] = runs[len(runs) // 2][1]

        # 3. latency of one create, with and without routing
        without, with_routing, routed = [], [], 0
        if SKIP_LATENCY:
            print("latency phase skipped (LD_BENCH_SKIP_LATENCY)", flush=True)
        else:
            Lead = env["crm.lead"].with_context(mail_create_nolog=True)

            def timed_create(ctx, tag, i):
                t = time.perf_counter()
                Lead.with_context(**ctx).create({
                    "name": "Bench %s %d" % (tag, i), "type": "lead", "user_id": False,
                    "referred": "T%02d" % (i % N_TEAMS), "email_from": "c%d@example.com" % i})
                env.flush_all()
                return (time.perf_counter() - t) * 1000

            for i in range(20):  # warm caches (ormcache, prefetch) for both paths
                timed_create({"lead_distribution_no_route": True}, "warm", i)
                timed_create({}, "warm", i)
            # interleaved, so that a change of machine load hits both series alike
            for i in range(N_CREATES):
                without.append(timed_create({"lead_distribution_no_route": True}, "plain", i))
                with_routing.append(timed_create({}, "routed", i))
            cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'Bench routed %%' AND user_id IS NOT NULL")
            routed = cr.fetchone()[0]
        cr.execute("ROLLBACK TO SAVEPOINT bench_agents")
        env.invalidate_all()
        if COMMITTED:  # the committed agents, teams and rules: archived, out of later runs' way
            purge_leads(cr)
            env["lead.routing.rule"].browse(env["lead.routing.rule"].search(
                [("team_id", "in", teams.ids)]).ids).active = False
            teams.active = False
            users.active = False
            env.flush_all()
            cr.commit()
        cr.rollback()

    ours_n, ours_t, ours_cpu = results["ours"]
    ours_rate = ours_n / ours_t
    print()
    print("=== lead_distribution benchmark (%d agents, %d teams, 20 rules) ===" % (N_TEAMS * PER_TEAM, N_TEAMS))
    print("lead_distribution backlog : %6d leads in %7.2fs -> %8.1f leads/s%s" % (
        ours_n, ours_t, ours_rate, " (%.2f CPU-s -> %.1f leads/CPU-s)" % (ours_cpu, ours_n / ours_cpu)
        if ours_cpu else ""))
    if "odoo" in results:
        odoo_n, odoo_t, odoo_cpu = results["odoo"]
        odoo_rate = odoo_n / odoo_t
        print("Odoo _action_assign_leads : %6d leads in %7.2fs -> %8.1f leads/s%s" % (
            odoo_n, odoo_t, odoo_rate, " (sample)" if N_ODOO < N_LEADS else ""))
        print("throughput ratio          : %.1fx (target >= 20x)" % (ours_rate / odoo_rate))
    if "odoo" in results and odoo_cpu and ours_cpu:
        print("CPU (process + PostgreSQL backend): Odoo %.2fs -> %.1f leads/CPU-s, ours %.2fs -> %.1f "
              "leads/CPU-s, ratio %.1fx" % (odoo_cpu, odoo_n / odoo_cpu, ours_cpu, ours_n / ours_cpu,
                                            (ours_n / ours_cpu) / (odoo_n / odoo_cpu)))
    if not with_routing:
        return
    p50w, p95w = pct(without, 50), pct(without, 95)
    p50r, p95r = pct(with_routing, 50), pct(with_routing, 95)
    print("single create without routing: p50 %.1f ms  p95 %.1f ms" % (p50w, p95w))
    print("single create with routing   : p50 %.1f ms  p95 %.1f ms  (%d/%d routed)" % (p50r, p95r, routed, N_CREATES))
    print("latency added by routing     : p50 %.1f ms  p95 %.1f ms (target p95 <= 20 ms)"
          % (p50r - p50w, p95r - p95w))


if __name__ == "__main__":
    main()
