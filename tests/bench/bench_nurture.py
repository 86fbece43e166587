#!/usr/bin/env python3
"""Benchmark of the lead_sla nurture cron with 100,000 leads in nurture.

    python3 tests/bench/bench_nurture.py [--leads 100000] [--due 1000] [--repeat 5]

Starts a throwaway PostgreSQL cluster unless a server is configured (PGHOST /
db_host), exactly like scripts/test; installs lead_sla without demo data,
switches the shipped cold sequence on, and inserts by SQL ``--leads`` leads
running it (each with its enrolment row in the nurture log), each with its
own customer (partner with an e-mail address) and the owner following the
lead, as after an ORM assignment. Then it times, side by side:

* the cron when nothing is due (target < 50 ms), and the due-lead query with
  and without the partial index ``crm_lead_nurture_due_idx``;
* the cron when ``--due`` leads reach their day-1 e-mail step (target < 2 s,
  excluding the mail transport: the e-mails are queued in mail.mail, as the
  cron does, and not handed to an SMTP server): claim, rendering of the
  shipped template, chatter message and e-mail per lead, next step planned.

Each measured run is rolled back, so every repetition sees the same data.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
sys.path.insert(0, HERE)
from devenv import PY, ROOT, Cluster, configured_db, core_addons_path, odoo_rc  # noqa: E402
from benchutil import cpu_clock  # noqa: E402

NOW = datetime(2030, 1, 7, 10, 0, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="print the cProfile top functions of one due run")
    parser.add_argument("--inner", nargs=2, metavar=("CONF", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return inner(args.inner[0], args.inner[1], args.leads, args.due, args.repeat,
                     args.profile)

    rc = odoo_rc()
    workdir = tempfile.mkdtemp(prefix="leadsuite-bench-")
    cluster = None
    conf = {"addons_path": ",".join(core_addons_path(rc) + [ROOT]),
            "data_dir": os.path.join(workdir, "data"), "max_cron_threads": "0",
            "log_level": "warn"}
    db_conf = configured_db(rc)
    if db_conf:
        conf.update(db_conf)
    else:
        cluster = Cluster()
        cluster.start()
        conf.update(db_host="127.0.0.1", db_port=str(cluster.port), db_user=cluster.user)
    conf_path = os.path.join(workdir, "odoo.conf")
    with open(conf_path, "w") as f:
        f.write("[options]\n" + "".join("%s = %s\n" % kv for kv in conf.items()))
    db = "bench_nurture_%d" % os.getpid()
    try:
        start = time.perf_counter()
        subprocess.run([PY, "-m", "odoo", "-c", conf_path, "-d", db, "-i", "lead_sla",
                        "--without-demo=all", "--stop-after-init"], check=True, cwd=workdir)
        print("installed lead_sla in %.0f s" % (time.perf_counter() - start))
        subprocess.run([PY, __file__, "--inner", conf_path, db, "--leads", str(args.leads),
                        "--due", str(args.due), "--repeat", str(args.repeat)]
                       + (["--profile"] if args.profile else []),
                       check=True, cwd=workdir)
    finally:
        if cluster:
            cluster.stop()


def insert_leads(env, n_leads):
    """n_leads cold leads running the shipped cold sequence, next step far ahead."""
    cr = env.cr
    sequence = env.ref("lead_sla.nurture_sequence_cold")
    sequence.active = True
    first = sequence.step_ids[0]
    uid = env.ref("base.user_admin").id
    company_id = env.company.id
    team_id = env["crm.team"].create({"name": "Bench team", "user_id": uid}).id
    env.flush_all()
    cr.execute("""
        INSERT INTO res_partner (name, email, active, type, is_company, company_id,
                                 create_uid, write_uid, create_date, write_date)
        SELECT 'Bench customer ' || g, 'customer' || g || '@example.my', true, 'contact',
               false, %(company)s, %(uid)s, %(uid)s, %(now)s, %(now)s
          FROM generate_series(1, %(n)s) g""",
               {"uid": uid, "company": company_id, "now": NOW, "n": n_leads})
    cr.execute("""
        INSERT INTO crm_lead (name, type, active, probability, priority, lead_timeline, team_id,
                              user_id, company_id, partner_id, email_from, lead_tier, lead_score,
                              sla_status, sla_first_response_date, nurture_sequence_id,
                              nurture_step_id, nurture_state, nurture_enrolled_at,
                              nurture_next_date, nurture_failures, create_uid, write_uid,
                              create_date, write_date)
        SELECT 'Bench lead ' || p.id, 'opportunity', true, 10, '0', 'unknown', %(team)s,
               %(uid)s, %(company)s, p.id, p.email, 'cold', 0, 'met', %(enrolled)s, %(seq)s,
               %(step)s, 'running', %(enrolled)s,
               %(now)s + interval '1 day' + (p.id %% 86400) * interval '1 second', 0,
               %(uid)s, %(uid)s, %(enrolled)s, %(enrolled)s
          FROM res_partner p WHERE p.name LIKE 'Bench customer %%'""",
               {"uid": uid, "company": company_id, "team": team_id, "seq": sequence.id,
                "step": first.id, "now": NOW, "enrolled": NOW - timedelta(hours=23)})
    cr.execute("""
        INSERT INTO lead_nurture_log (lead_id, sequence_id, kind, date, company_id)
        SELECT id, nurture_sequence_id, 'enrolled', nurture_enrolled_at, company_id
          FROM crm_lead WHERE name LIKE 'Bench lead %%'""")
    cr.execute("""
        UPDATE crm_lead l SET nurture_enrolment_id = g.id
          FROM lead_nurture_log g WHERE g.lead_id = l.id AND g.kind = 'enrolled'""")
    # as after an ORM assignment, the owner follows the lead
    cr.execute("""
        INSERT INTO mail_followers (res_model, res_id, partner_id)
        SELECT 'crm.lead', l.id, u.partner_id
          FROM crm_lead l JOIN res_users u ON u.id = l.user_id
         WHERE l.team_id = %s""", [team_id])
    for table in ("crm_lead", "res_partner", "lead_nurture_log", "mail_followers"):
        cr.execute("ANALYZE %s" % table)
    env.invalidate_all()
    env.registry.clear_cache()


def make_due(cr, n_due):
    cr.execute("""
        UPDATE crm_lead SET nurture_next_date = %s - interval '1 minute'
         WHERE id IN (SELECT id FROM crm_lead WHERE name LIKE 'Bench lead %%'
                       ORDER BY id LIMIT %s)""", [NOW, n_due])


def timed_run(registry, n_due, repeat):
    import odoo
    times, cpus, counts = [], [], []
    for _i in range(repeat):
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if n_due:
                make_due(cr, n_due)
            env["crm.lead"]._lead_nurture_sequence_data()  # warm cache, as in a running worker
            cpu0, start = cpu_clock(cr), time.perf_counter()
            if n_due:
                sent, failed = env["crm.lead"]._lead_nurture_run(now=NOW, batch_size=n_due)
                counts.append((len(sent), len(failed)))
            else:
                env["crm.lead"]._cron_lead_nurture()  # the cron entry point, nothing due
                counts.append((0, 0))
            env.flush_all()
            times.append(time.perf_counter() - start)
            cpu1 = cpu_clock(cr)
            if cpu0 is not None:
                cpus.append(cpu1 - cpu0)
            if n_due:
                cr.execute("SELECT count(*) FROM mail_mail WHERE create_date >= %s", [NOW])
            cr.rollback()
    return (statistics.median(times), min(times), counts[0],
            statistics.median(cpus) if cpus else None)


def due_query(registry, index):
    with registry.cursor() as cr:
        if not index:
            cr.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
        query = """SELECT id FROM crm_lead
                    WHERE nurture_state = 'running' AND nurture_next_date <= %s
                    ORDER BY nurture_next_date LIMIT 1000 FOR NO KEY UPDATE SKIP LOCKED"""
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


def profile_run(registry, n_due):
    import cProfile
    import pstats
    profiler = cProfile.Profile()
    profiler.enable()
    timed_run(registry, n_due, 1)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(70)
    stats.sort_stats("tottime").print_stats(25)


def inner(conf_path, db, n_leads, n_due, repeat, profile=False):
    import odoo
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["-c", conf_path])
    registry = Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        start = time.perf_counter()
        insert_leads(env, n_leads)
        print("setup: %s leads in nurture inserted by SQL in %.1f s"
              % (f"{n_leads:,}", time.perf_counter() - start))
    # warm-up (registry caches, templates compiled)
    timed_run(registry, n_due, 1)
    if profile:
        profile_run(registry, n_due)
        return 0
    idle = timed_run(registry, 0, repeat * 4)
    q_idx = due_query(registry, index=True)
    q_seq = due_query(registry, index=False)
    busy = timed_run(registry, n_due, repeat)
    print("\nnurture cron, %s leads in nurture (load average %.1f on %d cores)"
          % (f"{n_leads:,}", os.getloadavg()[0], os.cpu_count()))
    print(f"{'scenario':48} {'median':>10} {'min':>10} {'cpu':>10}  sent/failed")
    for label, (med, low, counts, cpu) in (
            ("cron, nothing due (target < 50 ms)", idle),
            (f"cron, {n_due} e-mail steps due (target < 2 s)", busy)):
        cpu_text = "%7.1f ms" % (cpu * 1000) if cpu is not None else "      n/a"
        print(f"{label:48} {med * 1000:7.1f} ms {low * 1000:7.1f} ms {cpu_text}  {counts}")
    print(f"\ndue-lead query, partial index : {q_idx[0] * 1000:8.2f} ms   plan: {q_idx[1]}")
    print(f"due-lead query, no index scan : {q_seq[0] * 1000:8.2f} ms   plan: {q_seq[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
