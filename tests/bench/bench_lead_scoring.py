#!/usr/bin/env python3
"""Benchmark of lead_scoring, measured side by side in one run.

    python3 tests/bench/bench_lead_scoring.py [--leads 10000] [--rescore 100000]

1. Batch-create N leads (one ``crm.lead.create`` call) in a database with only
   ``crm`` and in one with ``lead_scoring``, alternating rounds, and print the
   best and median times and the overhead ratio (target <= 15 %). On a busy
   machine the best round is the steadier figure.
2. Rescore R open leads with the 10 default rules through the rescoring cron
   (batches of 1,000) and print leads/s.

Needs Odoo 18 importable; starts a throwaway PostgreSQL cluster unless a
server is configured (PGHOST / db_host), exactly like scripts/test.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
sys.path.insert(0, HERE)
from devenv import PY, ROOT, Cluster, configured_db, core_addons_path, odoo_rc  # noqa: E402
from benchutil import cpu_clock  # noqa: E402


def lead_values(n, seed=42):
    """Ordinary enquiries, with only fields that plain crm knows, so both
    databases create exactly the same leads."""
    rnd = random.Random(seed)
    vals = []
    for i in range(n):
        vals.append({
            "name": "Enquiry %d" % i,
            "contact_name": "Customer %d" % i,
            "email_from": "customer%d@example.com" % i,
            "phone": "+6012%07d" % i if rnd.random() < 0.7 else False,
            "expected_revenue": rnd.choice([0, 5000, 20000, 80000]),
            "description": "Interested in a viewing" if rnd.random() < 0.2 else False,
        })
    return vals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rescore", type=int, default=100000)
    args = parser.parse_args()

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
    suffix = os.getpid()
    dbs = {"crm only": "bench_crm_%d" % suffix, "crm + lead_scoring": "bench_ls_%d" % suffix}
    try:
        for module, db in zip(("crm", "lead_scoring"), dbs.values()):
            subprocess.run([PY, "-m", "odoo", "-c", conf_path, "-d", db, "-i", module,
                            "--without-demo=all", "--stop-after-init"], check=True, cwd=workdir)
        subprocess.run([PY, __file__, "--inner", conf_path, dbs["crm only"],
                        dbs["crm + lead_scoring"], str(args.leads), str(args.rounds),
                        str(args.rescore)], check=True, cwd=workdir)
    finally:
        if cluster:
            cluster.stop()


def inner(conf_path, db_crm, db_ls, n, rounds, rescore_n):
    import odoo
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["-c", conf_path])
    vals = lead_values(n)

    def create_once(db):
        registry = Registry(db)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["crm.lead"].search([], limit=1)  # warm the registry caches
            cpu0, start = cpu_clock(cr), time.perf_counter()
            env["crm.lead"].create(vals)
            env.flush_all()
            elapsed = time.perf_counter() - start
            cpu = cpu_clock(cr)
            cr.rollback()
        return elapsed, (cpu - cpu0) if cpu0 is not None else None

    timings = {db_crm: [], db_ls: []}
    cpus = {db_crm: [], db_ls: []}
    create_once(db_crm), create_once(db_ls)  # warm-up
    for _round in range(rounds):
        for db in (db_crm, db_ls):
            wall, cpu = create_once(db)
            timings[db].append(wall)
            if cpu is not None:
                cpus[db].append(cpu)
    print("\n== Batch create of %d leads, %d alternating rounds each ==" % (n, rounds))
    print("rounds (s)          : crm only %s | crm + lead_scoring %s" % (
        " ".join("%.1f" % t for t in timings[db_crm]), " ".join("%.1f" % t for t in timings[db_ls])))
    for label, pick in (("best", min), ("median", statistics.median)):
        base, ours = pick(timings[db_crm]), pick(timings[db_ls])
        print("%-7s crm only     : %7.2f s  (%6.0f leads/s)" % (label, base, n / base))
        print("%-7s + scoring    : %7.2f s  (%6.0f leads/s)" % (label, ours, n / ours))
        print("%-7s overhead     : %+6.1f %%  (target <= 15 %%)" % (label, (ours / base - 1) * 100))
    if cpus[db_crm] and cpus[db_ls]:
        base, ours = statistics.median(cpus[db_crm]), statistics.median(cpus[db_ls])
        print("CPU s (Odoo process + PostgreSQL backend, median): crm only %.1f | + scoring %.1f"
              " -> overhead %+.1f %% (independent of other load)" % (base, ours, (ours / base - 1) * 100))

    # rescoring: insert open leads with plain SQL, then let the cron walk them
    registry = Registry(db_ls)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company.id
        rnd = random.Random(7)
        rows = [(("Bulk %d" % i), "lead", company, True, 10.0,
                 ("+6013%07d" % i) if rnd.random() < 0.7 else None,
                 rnd.choice(["week", "month", "unknown"]), rnd.randint(0, 3),
                 rnd.choice([0, 5000, 30000]))
                for i in range(rescore_n)]
        from psycopg2.extras import execute_values
        execute_values(cr._obj, """
            INSERT INTO crm_lead (name, type, company_id, active, probability, phone,
                                  lead_timeline, lead_inbound_count, lead_budget,
                                  create_date, write_date)
            SELECT v.*, now(), now() FROM (VALUES %s) v""", rows, page_size=5000)
        cr.commit()
        env["crm.lead"]._lead_scoring_request_rescore()
        env["ir.config_parameter"].set_param("lead_scoring.rescore_from_id", "0")
        cr.commit()
        total = env["crm.lead"].search_count([("probability", "<", 100)])
        start = time.perf_counter()
        batches = 0
        while env["ir.config_parameter"].get_param("lead_scoring.rescore_from_id"):
            env["crm.lead"]._cron_lead_scoring_rescore(batch_size=1000)
            cr.commit()
            env.invalidate_all()
            batches += 1
        elapsed = time.perf_counter() - start
        scored = env["crm.lead"].search_count([("lead_score", ">", 0)])
    print("\n== Rescore of all open leads with the 10 default rules ==")
    print("open leads          : %d in %d cron batches of 1,000" % (total, batches))
    print("elapsed             : %7.2f s  (%6.0f leads/s); %d leads now score > 0"
          % (elapsed, total / elapsed, scored))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        inner(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
              int(sys.argv[7]))
    else:
        main()
