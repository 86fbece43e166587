"""What the soak proves, read from the database and the client ledger afterwards."""
from collections import Counter

FINAL = ("done", "duplicate", "ignored")
MESSAGE_KINDS = ("whatsapp_message", "messenger")


class Report:
    def __init__(self):
        self.figures = []
        self.failures = []

    def figure(self, name, value):
        self.figures.append((name, value))

    def check(self, name, ok, detail=""):
        self.figures.append(("CHECK " + name, ("ok" if ok else "FAILED") + (" - %s" % detail if detail else "")))
        if not ok:
            self.failures.append(name)

    def print(self):
        width = max(len(name) for name, _v in self.figures)
        for name, value in self.figures:
            print("  %s : %s" % (name.ljust(width), value), flush=True)


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def check_ledger(report, ledger, faults, p95_target_ms):
    attempts = ledger.attempts
    ok = [a for a in attempts if a[3] in (200, 201, 202)]
    rejected = [a for a in attempts if a[3] not in (200, 201, 202)]
    report.figure("deliveries (distinct)", len(ledger.deliveries))
    report.figure("requests sent", len(attempts))
    report.figure("  of which duplicates / redeliveries", sum(1 for a in attempts if a[5]))
    report.figure("  answered 2xx (accepted)", len(ok))
    report.figure("  answered otherwise (rejected)", "%d %s" % (len(rejected), dict(Counter(a[3] for a in rejected))))
    report.check("requests = accepted + rejected", len(attempts) == len(ok) + len(rejected))
    never = [d for d in ledger.deliveries if not d.accepted]
    report.check("every non-2xx redelivered until accepted", not never,
                 "%d deliveries never accepted" % len(never) if never else
                 "%d deliveries needed a redelivery" % sum(1 for d in ledger.deliveries if d.failures))
    # outside the faults: the whole request, from sent to answered, meets no fault window.
    # Meta's webhooks only store and answer; a web form is answered with the
    # lead it created (201), a heavier request: its figures are apart.
    quiet = [a for a in ok if not faults.inside(a[0], end_t=a[0] + a[4])]
    webhooks = [a for a in quiet if a[2] != "form"]
    first = min((a[0] for a in attempts), default=0)
    for server in sorted({a[1] for a in attempts}):
        mine = [a for a in webhooks if a[1] == server]
        calm = [a[4] * 1000 for a in mine]
        report.figure("webhook p50/p95/max ms outside faults, %s" % server, _spread(calm))
        slowest = sorted(mine, key=lambda a: -a[4])[:3]
        report.figure("  slowest of %s: ms at s from the first request" % server, ", ".join(
            "%s at %.0f" % (_ms(a[4] * 1000), a[0] - first) for a in slowest))
    report.figure("web form (lead created in the request) p50/p95/max ms outside faults",
                  _spread([a[4] * 1000 for a in quiet if a[2] == "form"]))
    calm = [a[4] * 1000 for a in webhooks]
    p95 = percentile(calm, 0.95)
    if p95_target_ms:
        report.check("webhook p95 outside fault windows < %d ms" % p95_target_ms,
                     p95 is not None and p95 < p95_target_ms, "p95 %s ms" % _ms(p95))
    else:
        report.figure("webhook p95 outside fault windows (no target)", "%s ms" % _ms(p95))
    actions = Counter((a[2], a[3]) for a in ledger.agent)
    report.figure("agent actions (action, ok): count", dict(sorted(actions.items())))
    errors = [a for a in ledger.agent if not a[3]]
    if errors:
        report.figure("agent errors: %d, e.g." % len(errors), "%s %s" % (errors[0][2], errors[0][4][:200]))
    # an action spans several calls: it meets a fault if any part of it does
    calm_errors = [a for a in errors if not faults.inside(a[0], margin=5, end_t=a[5])]
    report.check("agents' actions outside fault windows succeed", not calm_errors,
                 "; ".join(sorted({a[4] for a in calm_errors}))[:600])


def _spread(values):
    return "%s / %s / %s (%d requests)" % (_ms(percentile(values, 0.5)), _ms(percentile(values, 0.95)),
                                           _ms(max(values) if values else None), len(values))


def _ms(value):
    return "-" if value is None else "%.0f" % value


def check_database(report, cr, ledger, setup):
    channels = {kind: c["id"] for kind, c in setup["channels"].items()}
    ids = list(channels.values())
    cr.execute("SELECT state, count(*) FROM lead_channel_event WHERE channel_id = ANY(%s) GROUP BY state", [ids])
    states = dict(cr.fetchall())
    report.figure("inbox events by state", states)
    report.check("every stored event done, duplicate or ignored (none stuck)", set(states) <= set(FINAL))
    by_kind = {c: k for k, c in channels.items()}
    accepted = {(channels[d.kind], d.external_id) for d in ledger.accepted}
    cr.execute("""SELECT channel_id, external_id, count(*) FILTER (WHERE state <> 'duplicate')
                    FROM lead_channel_event WHERE channel_id = ANY(%s) GROUP BY 1, 2""", [ids])
    stored = {(c, e): n for c, e, n in cr.fetchall()}
    lost = accepted - set(stored)
    doubled = [k for k, n in stored.items() if n != 1]
    report.check("zero lost: every accepted delivery is in the inbox", not lost, "%d lost" % len(lost))
    report.check("zero doubled: one counting event per delivery", not doubled, "%d doubled" % len(doubled))
    _check_leads(report, cr, ledger, channels, by_kind)
    _check_messages(report, cr, ids)
    _check_owners(report, cr, ids, setup)
    _check_sla(report, cr, ids)
    _check_nurture(report, cr, setup)


def _check_leads(report, cr, ledger, channels, by_kind):
    contacts = {(d.kind, d.contact) for d in ledger.accepted}
    cr.execute("""SELECT channel_id, count(*) FROM crm_lead WHERE channel_id = ANY(%s) GROUP BY 1""",
               [list(channels.values())])
    leads = {by_kind[c]: n for c, n in cr.fetchall()}
    expected = Counter(kind for kind, _c in contacts)
    report.figure("leads per channel (distinct contacts)", {k: "%s (%s)" % (leads.get(k, 0), expected.get(k, 0))
                                                             for k in channels})
    report.check("leads = distinct contacts", all(leads.get(k, 0) == expected.get(k, 0) for k in channels))


def _check_messages(report, cr, ids):
    cr.execute("""SELECT count(*), count(posted_message_id), count(DISTINCT posted_message_id),
                         count(DISTINCT external_id)
                    FROM lead_channel_event
                   WHERE channel_id = ANY(%s) AND kind = ANY(%s) AND state = 'done'""", [ids, list(MESSAGE_KINDS)])
    events, posted, distinct_posted, distinct_ids = cr.fetchone()
    cr.execute("""SELECT count(*) FROM mail_message m JOIN lead_channel_event e ON e.posted_message_id = m.id
                   WHERE e.channel_id = ANY(%s) AND e.kind = ANY(%s) AND e.state = 'done'
                     AND m.model = 'crm.lead'""", [ids, list(MESSAGE_KINDS)])
    in_chatter = cr.fetchone()[0]
    cr.execute("""SELECT count(*) FROM (SELECT wa_message_id FROM mail_message WHERE wa_message_id LIKE 'wamid.SOAK-%%'
                   GROUP BY wa_message_id HAVING count(*) > 1) d""")
    doubled = cr.fetchone()[0]
    report.figure("customer messages: distinct ids / events done / in chatter",
                  "%d / %d / %d" % (distinct_ids, events, in_chatter))
    ok = distinct_ids == events == posted == distinct_posted == in_chatter and not doubled
    detail = "%d WhatsApp ids posted twice" % doubled if doubled else ""
    if not ok:
        detail = "; ".join(filter(None, [detail, _unposted_events(cr, ids)]))
    report.check("chatter messages = distinct message ids", ok, detail)


def _unposted_events(cr, ids):
    """The done message events whose message is not in a lead's chatter, as
    (id, kind, lead, message, message model, processed, attempts, error)."""
    cr.execute("""SELECT e.id, e.kind, e.lead_id, e.posted_message_id, m.model, e.processed_at, e.attempts,
                         left(e.error, 160)
                    FROM lead_channel_event e LEFT JOIN mail_message m ON m.id = e.posted_message_id
                   WHERE e.channel_id = ANY(%s) AND e.kind = ANY(%s) AND e.state = 'done'
                     AND m.model IS DISTINCT FROM 'crm.lead' ORDER BY e.id""", [ids, list(MESSAGE_KINDS)])
    return "not in chatter: %s" % cr.fetchall()


def _check_owners(report, cr, ids, setup):
    cr.execute("""SELECT count(*) FILTER (WHERE l.user_id IS NULL),
                         count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM lead_assignment_log g
                                                             WHERE g.lead_id = l.id AND g.user_id = l.user_id))
                    FROM crm_lead l WHERE l.channel_id = ANY(%s)""", [ids])
    no_owner, no_log = cr.fetchone()
    report.check("every lead has one owner and its assignment log", not no_owner and not no_log,
                 "%d without owner, %d without log" % (no_owner, no_log))
    cr.execute("""SELECT user_id, count(*) FROM lead_assignment_log WHERE rule_id = %s AND kind = 'auto'
                  GROUP BY user_id""", [setup["rule"]])
    counts = dict(cr.fetchall())
    weights = setup["agents"]
    total = sum(counts.values())
    expected = {u: total * w / sum(weights.values()) for u, w in weights.items()}
    report.figure("rotation: leads per agent (weight: got / expected)", {
        "w%g" % w: "%d / %.1f" % (counts.get(u, 0), expected[u]) for u, w in weights.items()})
    report.check("rotation counts match the weights within one lead",
                 all(abs(counts.get(u, 0) - expected[u]) <= 1 for u in weights) and set(counts) <= set(weights))


def _check_sla(report, cr, ids):
    cr.execute("""SELECT count(*), count(DISTINCT a.res_id) FROM mail_activity a
                    JOIN crm_lead l ON l.id = a.res_id AND a.res_model = 'crm.lead'
                   WHERE l.channel_id = ANY(%s) AND a.summary LIKE 'First response due%%'""", [ids])
    warnings, warned_leads = cr.fetchone()
    cr.execute("""SELECT count(*), count(DISTINCT m.res_id) FROM mail_message m
                    JOIN crm_lead l ON l.id = m.res_id AND m.model = 'crm.lead'
                   WHERE l.channel_id = ANY(%s) AND m.body LIKE '%%Response SLA breached%%'""", [ids])
    notes, breached_leads = cr.fetchone()
    cr.execute("""SELECT count(*) FROM crm_lead WHERE channel_id = ANY(%s) AND sla_breach_count > 1""", [ids])
    twice = cr.fetchone()[0]
    report.figure("SLA warnings (activities) / leads warned", "%d / %d" % (warnings, warned_leads))
    report.figure("SLA escalations (chatter notes) / leads breached", "%d / %d" % (notes, breached_leads))
    report.check("no SLA warning or escalation sent twice",
                 warnings == warned_leads and notes == breached_leads and not twice)


def _check_nurture(report, cr, setup):
    """Each nurture step sent once across both servers: per (enrolment,
    step), one "sent" log row and one touch on the lead (the soak's step plans
    a to-do with a known summary), and no touch without its log row."""
    from setup_rpc import NURTURE_SUMMARY  # noqa: PLC0415
    sequence = setup["nurture"]
    cr.execute("""SELECT kind, count(*) FROM lead_nurture_log WHERE sequence_id = %s GROUP BY kind""",
               [sequence])
    kinds = dict(cr.fetchall())
    cr.execute("""SELECT stop_reason, count(*) FROM lead_nurture_log
                   WHERE sequence_id = %s AND kind = 'stopped' GROUP BY 1""", [sequence])
    report.figure("nurture log rows by kind (stopped by reason)", "%s %s" % (kinds, dict(cr.fetchall())))
    cr.execute("""SELECT count(*) FROM (SELECT 1 FROM lead_nurture_log WHERE sequence_id = %s AND kind = 'sent'
                   GROUP BY enrolment_id, step_id HAVING count(*) > 1) d""", [sequence])
    logged_twice = cr.fetchone()[0]
    cr.execute("""SELECT g.lead_id, count(DISTINCT g.id), count(DISTINCT a.id)
                    FROM lead_nurture_log g
               LEFT JOIN mail_activity a ON a.res_model = 'crm.lead' AND a.res_id = g.lead_id
                                        AND a.summary = %s
                   WHERE g.sequence_id = %s AND g.kind = 'sent' GROUP BY g.lead_id""",
               [NURTURE_SUMMARY, sequence])
    rows = cr.fetchall()
    cr.execute("""SELECT count(*) FROM mail_activity a WHERE a.res_model = 'crm.lead' AND a.summary = %s
                     AND NOT EXISTS (SELECT 1 FROM lead_nurture_log g WHERE g.lead_id = a.res_id
                                        AND g.sequence_id = %s AND g.kind = 'sent')""",
               [NURTURE_SUMMARY, sequence])
    unlogged = cr.fetchone()[0]
    twice = [lead for lead, logs, touches in rows if logs != 1 or touches != 1]
    report.figure("nurture steps sent / leads touched", "%d / %d" % (
        sum(logs for _l, logs, _t in rows), sum(1 for _l, _g, touches in rows if touches)))
    report.check("each nurture step sent once (per enrolment and step, across both servers)",
                 not logged_twice and not twice and not unlogged and kinds.get("enrolled", 0) > 0,
                 "%d logged twice, %d leads with a missing or second touch, %d touches without log, "
                 "%d enrolled" % (logged_twice, len(twice), unlogged, kinds.get("enrolled", 0)))
