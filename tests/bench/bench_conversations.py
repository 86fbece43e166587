#!/usr/bin/env python3
"""Conversations benchmark: CRM > Conversations for one agent on a big database.

Fills a database by SQL (``bench_scale``'s lead filler: 90 % closed, 10 % open,
owned by 20 agents) up to N leads (default 1,000,000), gives 30 % of them a
chat conversation (channel, last customer message, preview; 10 % of each
agent's open ones await a reply) and M chatter messages (default 5 per lead, 5,000,000), then
times what the web client does when an agent opens the menu: ``web_search_read``
of the first page (80 rows) of the action's default view (the list) with its
default filter "Awaiting my reply", which includes the count (``search_count``,
capped at 10,001 like the client), as that agent (crm's record rules apply). Also timed: the kanban page, and a
manager's unfiltered list. Prints p50/p95 (ms) of R warm runs, the cold
first run, and EXPLAIN ANALYZE of the page query. Target: < 200 ms.

Usage::

    python3 tests/bench/bench_conversations.py [--leads N] [--messages-per-lead M] [--runs R] [--db NAME]
    python3 tests/bench/bench_conversations.py --quick            # 50,000 leads

Without PGHOST it starts a throwaway PostgreSQL cluster (like ./scripts/test)
and installs lead_sla + lead_channels (and their bridge) without demo data.
Run again with the same --db (and PGHOST / KEEP_CLUSTER) to skip the filling.
"""
import argparse
import os
import statistics
import sys
import threading
import time

import odoo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_scale  # noqa: E402 - its database start, lead filler, analyze and explain are reused

PAGE = 80


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads in the database")
    parser.add_argument("--messages-per-lead", type=int, default=5, help="chatter messages per lead")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--db", default="lead_conversations_bench")
    parser.add_argument("--quick", action="store_true", help="50,000 leads (a few minutes, install included)")
    args = parser.parse_args()
    if args.quick:
        args.leads = min(args.leads, 50_000)
    return args


def fill_conversations(cr, channel_id):
    """30 % of the leads get a WhatsApp conversation; 10 % of the open ones
    (the filler's open leads have id % 10 = 0) await a reply. Our own columns."""
    t0 = time.time()
    cr.execute("""
        UPDATE crm_lead
           SET channel_id = %(channel)s,
               channel_contact_ref = '601' || lpad(id::text, 8, '0'),
               channel_last_inbound_date = create_date + (id %% 600) * interval '1 minute',
               channel_last_message_date = create_date + (id %% 600) * interval '1 minute',
               channel_last_message = 'Hi, is the unit at block ' || (id %% 97) || ' still available?',
               -- one open conversation in ten awaits a reply, for every agent alike (the
               -- filler gives lead g to agent (g / 10) %% 20): 500 per agent at 1M leads
               channel_awaiting_reply = (id %% 10 = 0 AND (id / 200) %% 10 = 0)
         WHERE id %% 10 IN (0, 3, 6) AND channel_last_inbound_date IS NULL
    """, {"channel": channel_id})
    cr.commit()
    print("conversations on %d leads in %.0f s" % (cr.rowcount, time.time() - t0), flush=True)


def fill_messages(cr, per_lead):
    """``per_lead`` chatter messages on every lead (filler: SQL, no notification)."""
    cr.execute("SELECT count(*) FROM mail_message WHERE model = 'crm.lead'")
    have = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM crm_lead")
    want = cr.fetchone()[0] * per_lead
    if have >= want:
        return
    t0 = time.time()
    cr.execute("SELECT res_id FROM ir_model_data WHERE module = 'mail' AND name = 'mt_comment'")
    subtype = cr.fetchone()[0]
    cr.execute("SELECT min(id), max(id) FROM crm_lead")
    low, high = cr.fetchone()
    for start in range(low, high + 1, 100_000):
        cr.execute("""
            INSERT INTO mail_message (model, res_id, message_type, subtype_id, body, author_id, date,
                                      create_date, write_date, create_uid, write_uid, record_name)
            SELECT 'crm.lead', l.id, 'comment', %(subtype)s,
                   '<p>Message ' || n || ' of the conversation</p>', 3,
                   l.create_date + n * interval '5 minutes', l.create_date, l.create_date, 1, 1, l.name
              FROM crm_lead l, generate_series(1, %(n)s) n
             WHERE l.id BETWEEN %(start)s AND %(stop)s
               AND NOT EXISTS (SELECT 1 FROM mail_message m WHERE m.model = 'crm.lead' AND m.res_id = l.id)
        """, {"subtype": subtype, "n": per_lead, "start": start, "stop": start + 99_999})
        cr.commit()
    print("chatter messages: %d -> %d in %.0f s" % (have, want, time.time() - t0), flush=True)


def list_spec(env, action, mode):
    """The field specification the web client sends for the action's view."""
    view_id = dict((m, v) for v, m in action["views"]).get(mode)
    arch = env["crm.lead"].get_views([(view_id, mode)])["views"][mode]["arch"]
    from lxml import etree
    names = {node.get("name") for node in etree.fromstring(arch).iter("field")
             if node.getparent() is not None and node.getparent().tag in ("list", "kanban", "t", "div", "span")}
    fields_ = env["crm.lead"]._fields
    spec = {}
    for name in sorted(n for n in names if n in fields_):
        spec[name] = {"fields": {"display_name": {}}} if fields_[name].type == "many2one" else {}
    return spec


def open_page(env, domain, spec, order):
    """What the web client runs: one ``web_search_read``, which reads the page
    and, when the page is full, counts the records (up to 10,001, as the
    client asks)."""
    result = env["crm.lead"].web_search_read(domain, spec, offset=0, limit=PAGE, order=order, count_limit=10_001)
    return len(result["records"]), result["length"]


def timed(env, domain, spec, order, runs):
    env.invalidate_all()
    t = time.perf_counter()
    rows, count = open_page(env, domain, spec, order)
    cold = (time.perf_counter() - t) * 1000
    times = []
    for _i in range(runs):
        env.invalidate_all()
        t = time.perf_counter()
        open_page(env, domain, spec, order)
        times.append((time.perf_counter() - t) * 1000)
    return rows, count, cold, statistics.median(times), bench_scale.pct(times, 95)


def measure(registry, users, runs):
    from odoo.tools.safe_eval import safe_eval
    with registry.cursor() as cr:
        root = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        action = root["ir.actions.act_window"]._for_xml_id("lead_channels.crm_lead_conversation_action")
        order = "channel_last_inbound_date desc"
        # the agent owning the most awaiting conversations: the worst case of the default filter
        cr.execute("""SELECT user_id FROM crm_lead WHERE channel_awaiting_reply AND active
                      GROUP BY user_id ORDER BY count(*) DESC LIMIT 1""")
        agent = root["res.users"].browse(cr.fetchone()[0])
        manager = root.ref("base.user_admin")
        base_domain = safe_eval(action["domain"])
        cases = []
        for user, label, extra in ((agent, "agent, 'Awaiting my reply' (default)", True),
                                   (manager, "manager, all conversations", False)):
            env = odoo.api.Environment(cr, user.id, dict(safe_eval(action["context"]), uid=user.id))
            filter_domain = [("channel_awaiting_reply", "=", True), ("user_id", "=", user.id)] if extra else []
            domain = base_domain + filter_domain
            for mode in ("list", "kanban") if extra else ("list",):
                spec = list_spec(env, action, mode)
                cases.append((env, "%s, %s" % (label, mode), domain, spec))
        for env, label, domain, spec in cases:
            rows, count, cold, p50, p95 = timed(env, domain, spec, order, runs)
            print("%-52s rows %2d of %7d: cold %6.1f ms, p50 %6.1f ms, p95 %6.1f ms  %s" % (
                label, rows, count, cold, p50, p95, "OK" if p95 < 200 else "OVER 200 ms"), flush=True)
        env, label, domain, spec = cases[0]
        query = env["crm.lead"]._search(domain, order=order, limit=PAGE)
        print("plan of the agent's page query:\n%s" % bench_scale.explain(cr, query.select()))
        count_query = env["crm.lead"]._search(domain)
        print("plan of the agent's count:\n%s" % bench_scale.explain(
            cr, odoo.tools.SQL("SELECT count(*) FROM %s WHERE %s", count_query.from_clause, count_query.where_clause)))
        cr.rollback()


def main():
    args = parse()
    cluster = bench_scale.start_database(args.db)
    try:
        odoo.tools.config.parse_config(["-d", args.db, "--addons-path=%s" % bench_scale.ADDONS,
                                        "--log-level=warn", "--db_host", os.environ["PGHOST"],
                                        "--db_port", os.environ.get("PGPORT", "5432")])
        registry = odoo.modules.registry.Registry(args.db)
        threading.current_thread().testing = True
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            users = env["res.users"].search([("login", "like", "scale_agent_%")], order="login")
            if users:
                team = env["crm.team"].search([("name", "=", "Scale Team")], limit=1)
            else:
                users, team, _members, _rule = bench_scale.setup(env)
            channel = env["lead.channel"].search([("name", "=", "Bench WhatsApp")], limit=1) or \
                env["lead.channel"].create({"name": "Bench WhatsApp", "channel_type": "whatsapp"})
            cr.commit()
            bench_scale.fill(cr, args.leads, users, team)
            fill_conversations(cr, channel.id)
            fill_messages(cr, args.messages_per_lead)
        bench_scale.analyze(args.db)
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM crm_lead")
            leads = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM mail_message WHERE model = 'crm.lead'")
            messages = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM crm_lead WHERE channel_last_inbound_date IS NOT NULL")
            print("\n=== %d leads, %d chatter messages, %d conversations ===" % (leads, messages, cr.fetchone()[0]))
        measure(registry, users, args.runs)
    finally:
        if cluster and not os.environ.get("KEEP_CLUSTER"):
            cluster.stop()


if __name__ == "__main__":
    main()
