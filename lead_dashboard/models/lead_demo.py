"""The Malaysian property agency of the demo data, built as real traffic is.

Deliveries are stored in the inbox (``lead.channel.event``) as the webhook
controller and the e-mail gateway store them, and processed by the inbox job's
chunk processing, so capture, scoring, routing and SLA clocks run for real.
Agents then reply (``message_post`` as the agent), mark leads contacted, move
stages and win or lose leads through the public methods, and the SLA sweep
warns, breaches and escalates. The 60 days are simulated in chronological
order with the suite's own clock hooks: the ``lead_sla_now`` and
``lead_distribution_now`` context keys, ``_lead_sla_sweep(now=...)`` and the
messages' own dates.

What those hooks cannot date (PostgreSQL's transaction time, Odoo's magic
``create_date``, crm's ``date_open`` / ``date_closed`` / stage dates, the
inbox events' reception times and the undated chatter lines such as stage
tracking) is shifted by ``_demo_shift_dates`` as the very last step, each row
to the simulated instant of the step that wrote it.
"""
import heapq
import json
import logging
import random
import time
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from . import lead_demo_texts as T
from .lead_demo_nurture import NurtureSteps

_logger = logging.getLogger(__name__)

LEADS = 300
DAYS = 60
# channel xml id suffix -> share of the leads
CHANNEL_SHARES = [("wa_kl", 16), ("wa_pg", 10), ("wa_jb", 10), ("ig", 10), ("messenger", 8),
                  ("form", 12), ("propertyguru", 12), ("iproperty", 8), ("walk_in", 8), ("referral", 6)]
TEAM_OF = {"wa_kl": "kl", "ig": "kl", "propertyguru": "kl", "walk_in": "kl", "wa_pg": "pg",
           "messenger": "pg", "iproperty": "pg", "wa_jb": "jb", "form": "jb", "referral": "jb"}
# (login, name, team, skills, senior)
AGENTS = [
    ("demo.aisyah", "Nur Aisyah Rahman", "kl", ("malay", "english"), True),
    ("demo.weiming", "Tan Wei Ming", "kl", ("english", "mandarin"), True),
    ("demo.hafiz", "Muhammad Hafiz", "kl", ("malay", "english"), False),
    ("demo.priya", "Priya Ramasamy", "kl", ("english", "tamil", "malay"), False),
    ("demo.jiahui", "Chin Jia Hui", "kl", ("mandarin", "english"), False),
    ("demo.meiling", "Lim Mei Ling", "pg", ("mandarin", "english", "malay"), True),
    ("demo.arun", "Arun Selvam", "pg", ("tamil", "english"), False),
    ("demo.farah", "Farah Nadia", "pg", ("malay", "english"), False),
    ("demo.boonhuat", "Ong Boon Huat", "pg", ("mandarin", "malay"), False),
    ("demo.kamal", "Kamal Ariffin", "jb", ("malay", "english"), True),
    ("demo.huimin", "Yap Hui Min", "jb", ("mandarin", "english"), False),
    ("demo.suresh", "Suresh Pillai", "jb", ("tamil", "english", "malay"), False),
]
ON_LEAVE = "demo.farah"
AWAY = "demo.jiahui"
WEIGHTS = {"demo.aisyah": 2.0, "demo.weiming": 1.5}


class LeadDashboardDemo(models.AbstractModel):
    _name = "lead.dashboard.demo"
    _description = "Lead Management demo data builder"

    def _ref(self, name):
        return self.env.ref("lead_dashboard.demo_%s" % name)

    @api.model
    def _load_demo(self):
        """Build the agency once (demo XML ``<function>``); a second call does nothing."""
        channels = self.env["lead.channel"].concat(*[self._ref("channel_" + key) for key, _s in CHANNEL_SHARES])
        if self.env["lead.channel.event"].sudo().search_count([("channel_id", "in", channels.ids)], limit=1):
            return False
        started, cpu = time.monotonic(), time.process_time()
        company = self.env.ref("base.main_company")
        self._demo_company(company)
        agents = self._demo_agents(company)
        self._demo_rules(agents)
        self.env.flush_all()
        sim = _Simulation(self.env, agents, random.Random(14))
        sim.run()
        self._demo_shift_dates(sim)
        self._demo_after(agents, sim.now)
        _logger.info("lead_dashboard: demo agency built in %.1f s, %.1f s of Odoo's CPU (%d leads, %d deliveries, "
                     "%d nurture cron runs)", time.monotonic() - started, time.process_time() - cpu,
                     len(sim.leads), len(sim.events), sim.nurture_runs)
        return True

    @api.model
    def _demo_company(self, company):
        """Ringgit and Malaysia, when Odoo still allows a currency change."""
        vals = {"country_id": self.env.ref("base.my").id}
        myr = self.env.ref("base.MYR")
        moves = "account.move" in self.env and self.env["account.move"].sudo().search_count(
            [("company_id", "=", company.id)], limit=1)
        if not moves and company.currency_id != myr:
            myr.active = True
            vals["currency_id"] = myr.id
        company.write(vals)

    @api.model
    def _demo_agents(self, company):
        """The 12 agents: users, their working calendar, team memberships, skills, territories."""
        calendar = self._ref("calendar_kl")
        group = self.env.ref("sales_team.group_sale_salesman")
        manager_group = self.env.ref("sales_team.group_sale_salesman_all_leads")
        territories = {"kl": self._ref("territory_kl"), "pg": self._ref("territory_pg"),
                       "jb": self._ref("territory_jb_central") | self._ref("territory_jb_iskandar")}
        agents = {}
        Users = self.env["res.users"].with_context(no_reset_password=True, mail_create_nolog=True)
        for login, name, team_key, skills, senior in AGENTS:
            user = Users.create({
                "name": name, "login": login, "email": "%s@hartanah-demo.my" % login.split(".")[1],
                "tz": "Asia/Kuala_Lumpur", "company_id": company.id, "company_ids": [(6, 0, company.ids)],
                "groups_id": [(6, 0, (group | manager_group if senior else group).ids)],
                # notified in Odoo's inbox: a demo database sends no e-mail
                "notification_type": "inbox",
            })
            self.env["resource.resource"].create({
                "name": name, "user_id": user.id, "calendar_id": calendar.id, "tz": "Asia/Kuala_Lumpur",
                "company_id": company.id})
            member = self.env["crm.team.member"].create({
                "crm_team_id": self._ref("team_" + team_key).id, "user_id": user.id,
                "lead_skill_ids": [(6, 0, [self._ref("skill_" + s).id for s in skills])],
                "lead_territory_ids": [(6, 0, territories[team_key].ids)],
                "lead_weight": WEIGHTS.get(login, 1.0), "lead_max_open": 40 if senior else 30,
            })
            agents[login] = {"user": user, "member": member, "team": team_key, "senior": senior,
                             "lang": "ms" if "malay" in skills else "en"}
        # Iskandar Puteri is Suresh's only: the territory rule then has a choice to make
        agents["demo.kamal"]["member"].lead_territory_ids = self._ref("territory_jb_central")
        leave_user = agents[ON_LEAVE]["user"]
        now = fields.Datetime.now().replace(microsecond=0)
        self.env["resource.calendar.leaves"].create({
            "name": "Annual leave (Hari Raya)", "calendar_id": calendar.id,
            "resource_id": leave_user.resource_ids[:1].id, "time_type": "leave",
            "date_from": now - timedelta(days=3), "date_to": now + timedelta(days=4)})
        return agents

    @api.model
    def _demo_rules(self, agents):
        """Routing rules of the three teams, each scoped to its own team's leads."""
        team = {key: self._ref("team_" + key) for key in ("kl", "pg", "jb")}
        seniors = self.env["crm.team.member"].concat(
            *[a["member"] for a in agents.values() if a["senior"] and a["team"] == "kl"])
        rules = [
            ("Kuala Lumpur: hot leads to the senior pool", "kl", [("lead_tier", "=", "hot")],
             {"member_ids": [(6, 0, seniors.ids)], "strategy": "least_loaded", "fallback": "next_rule"}),
            ("Kuala Lumpur: Mandarin speakers", "kl", [("lead_skill_ids", "!=", False)],
             {"match_skills": True, "fallback": "next_rule"}),
            ("Kuala Lumpur: everyone, weighted", "kl", [],
             {"strategy": "weighted", "fallback": "unassigned"}),
            ("Penang: by territory", "pg", [("zip", "!=", False)],
             {"match_territory": True, "fallback": "next_rule"}),
            ("Penang: round robin", "pg", [], {"strategy": "round_robin", "fallback": "unassigned"}),
            ("Johor Bahru: by territory (RTS Link, Iskandar)", "jb", [("zip", "!=", False)],
             {"match_territory": True, "strategy": "least_loaded", "fallback": "next_rule"}),
            ("Johor Bahru: least loaded", "jb", [], {"strategy": "least_loaded", "fallback": "unassigned"}),
        ]
        Rule = self.env["lead.routing.rule"]
        for seq, (name, key, domain, extra) in enumerate(rules, start=1):
            Rule.create(dict(extra, name="Hartanah Demo " + name, sequence=seq, team_id=team[key].id,
                             domain=repr([("team_id", "=", team[key].id)] + domain)))

    @api.model
    def _demo_after(self, agents, now):
        """Today's state: one agent away, performance tiers of the weighted team."""
        agents[AWAY]["member"].lead_available = False
        self._ref("team_kl")._lead_update_performance(now=now)

    # ------------------------------------------------------------------
    # Dates PostgreSQL and the ORM wrote at load time
    # ------------------------------------------------------------------
    @api.model
    def _demo_shift_dates(self, sim):
        """Put each row written at load time at its simulated instant (see the
        module docstring). Raw SQL: ``create_date`` and the other dates below
        are not writable through the ORM, and the chatter's undated lines are
        matched by id ranges (one statement per table)."""
        cr = self.env.cr
        self.env.flush_all()
        lead_ids, created, closed, staged = sim.lead_dates()
        cr.execute(SQL("""
            UPDATE crm_lead l
               SET create_date = d.created,
                   date_open = CASE WHEN l.user_id IS NOT NULL THEN COALESCE(
                       (SELECT min(g.date) FROM lead_assignment_log g WHERE g.lead_id = l.id), d.created) END,
                   date_closed = d.closed,
                   date_last_stage_update = COALESCE(d.staged, d.created),
                   write_date = GREATEST(d.created, d.closed, d.staged)
              FROM unnest(%s::int[], %s::timestamp[], %s::timestamp[], %s::timestamp[])
                   AS d(id, created, closed, staged)
             WHERE l.id = d.id""", lead_ids, created, closed, staged))
        event_ids, event_dates = sim.event_dates()
        cr.execute(SQL("""
            UPDATE lead_channel_event e
               SET received_at = d.t, create_date = d.t, write_date = d.t,
                   processed_at = d.t + interval '2 seconds'
              FROM unnest(%s::int[], %s::timestamp[]) AS d(id, t)
             WHERE e.id = d.id""", event_ids, event_dates))
        first_ids, step_dates = sim.message_steps()
        cr.execute(SQL("""
            UPDATE mail_message m
               SET date = s.t, create_date = s.t, write_date = s.t
              FROM (SELECT m2.id,
                           (SELECT b.t FROM unnest(%s::int[], %s::timestamp[]) WITH ORDINALITY
                                            AS b(first_id, t, n)
                             WHERE b.first_id <= m2.id ORDER BY b.first_id DESC, b.n DESC LIMIT 1) AS t
                      FROM mail_message m2
                     WHERE m2.id >= %s AND m2.date >= %s) s
             WHERE m.id = s.id AND s.t IS NOT NULL""",
                       first_ids, step_dates, first_ids[0], sim.loaded_at - timedelta(minutes=1)))
        self.env.invalidate_all()
        leads = self.env["crm.lead"].with_context(active_test=False).browse(lead_ids)
        leads.modified(["create_date", "date_open", "date_closed"])
        # CRM > Conversations read the messages' (now shifted) dates: lead_channels'
        # own fill of leads without a conversation summary rebuilds them
        leads.write({"channel_last_message": False})
        leads._channel_conversation_migrate()
        self.env.flush_all()


class _Simulation(NurtureSteps):
    """The 60 days, step by step in time order (a heap of pending steps)."""

    def __init__(self, env, agents, rng):
        self.env = env
        self.agents = agents
        self.users = {a["user"].id: a for a in agents.values()}
        self.rng = rng
        self.now = fields.Datetime.now().replace(microsecond=0)
        self.loaded_at = self.now
        self.Event = env["lead.channel.event"].sudo()
        self.Lead = env["crm.lead"].sudo().with_context(active_test=False)
        self.heap = []
        self.seq = 0
        self.leads = {}  # index -> dict(lead, created, closed, staged, channel, lang, listing)
        self.events = {}  # event id -> simulated reception
        self.steps = []  # (first mail_message id of the step, simulated instant)
        self.next_due = None
        self.nurture_runs = 0
        self.stages = env["crm.stage"].search([("team_id", "=", False)], order="sequence, id")
        self.lost_reasons = [env.ref("lead_dashboard.demo_lost_reason_" + k)
                             for k in ("other_agent", "loan", "budget", "silent")]

    # ------------------------------------------------------------ plan
    def push(self, when, action, index, **data):
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, action, index, data))

    def _arrival(self, day):
        """A moment of office hours (Mon-Fri 08:00-17:00 Kuala Lumpur = 00:00-09:00 UTC)."""
        start = (self.now - timedelta(days=day)).replace(hour=0, minute=0, second=0)
        while start.weekday() >= 5:
            start -= timedelta(days=1)
        return start + timedelta(minutes=self.rng.randrange(0, 8 * 60))

    def plan(self):
        keys = [k for k, share in CHANNEL_SHARES for _i in range(share)]
        for index in range(LEADS):
            day = DAYS - 1 - (index * DAYS) // LEADS  # spread evenly, oldest first
            when = self._arrival(day) if day else self.now - timedelta(minutes=self.rng.randrange(20, 400))
            if when >= self.now:
                when = self.now - timedelta(minutes=30)
            self.push(when, "arrive", index, channel=self.rng.choice(keys), day=day)

    def run(self):
        self.plan()
        while self.heap:
            when, _seq, action, index, data = heapq.heappop(self.heap)
            self.sweep(when)
            self.backlog(when)
            self.nurture(when)
            self.mark(when)
            getattr(self, "do_" + action)(when, index, **data)
            # what a commit would run now: the step's tracking messages and hooks are
            # finalised by its own user and clock, not by a later step's
            self.env.cr.flush()
        self.sweep(self.now)
        self.nurture(self.now)

    def backlog(self, when):
        """The backlog job's work (``_cron_lead_distribution_backlog``) at ``when``:
        leads that arrived while nobody was on shift are routed."""
        Lead = self.env["crm.lead"].sudo().with_context(
            lead_distribution_backlog=True, lead_distribution_searched=True, lead_distribution_now=when,
            lead_sla_now=when, mail_auto_subscribe_no_notify=True, tracking_disable=True)
        pending = Lead.search([("lead_routing_pending", "=", True)] + Lead._lead_open_domain())
        if pending:
            pending._lead_distribution_route(kind="auto", team_fallback_ids=set(pending.ids))
            self.env.flush_all()

    def sweep(self, until):
        """The SLA sweep, at each instant a clock falls due before ``until``."""
        Lead = self.env["crm.lead"]
        for _i in range(50):
            due = Lead._lead_sla_next_due()
            if not due or due > until:
                return
            Lead._lead_sla_sweep(now=due)
            self.env.flush_all()

    # ------------------------------------------------------------ deliveries
    def _ctx(self, when):
        return {"lead_sla_now": when, "lead_distribution_now": when, "mail_notify_force_send": False,
                "mail_post_autofollow": False, "mail_create_nosubscribe": True}

    def _customer(self, index, team):
        rng = self.rng
        name = rng.choice(T.CUSTOMER_NAMES)
        listing, price = rng.choice(T.LISTINGS[team])
        lang = "ms" if rng.random() < 0.45 else "en"
        budget = int(price * rng.choice((0.8, 0.9, 1.0, 1.1)) / 1000)
        # mobile prefixes 012-019 (+60 11 takes eight digits): none of the numbers
        # contains another test's digits (crm's phone search looks for "1122")
        prefix = 2 + rng.randrange(1, 10) % 8
        return {"name": name, "phone": "+601%d%07d" % (prefix, 1000000 + index * 7919 % 8999999),
                "email": "%s.%d@example.my" % (name.split()[0].lower(), index), "listing": listing,
                "price": price, "lang": lang, "budget": budget}

    def _first_line(self, cust):
        return self.rng.choice(T.FIRST_LINES[cust["lang"]]).format(**cust)

    def _items(self, key, channel, cust, when, index, text):
        """The delivery of one customer message, as the webhook / gateway / wizard store it."""
        epoch = int((when - datetime(1970, 1, 1)).total_seconds())
        ctype = channel.channel_type
        if ctype == "whatsapp":
            value = {"messaging_product": "whatsapp",
                     "metadata": {"display_phone_number": "60380001000", "phone_number_id": channel.wa_phone_number_id},
                     "contacts": [{"profile": {"name": cust["name"]}, "wa_id": cust["phone"][1:]}],
                     "messages": [{"from": cust["phone"][1:], "id": "wamid.DEMO%d.%d" % (index, epoch),
                                   "timestamp": str(epoch), "type": "text", "text": {"body": text}}]}
            return {"object": "whatsapp_business_account",
                    "entry": [{"id": "WABA-DEMO", "changes": [{"field": "messages", "value": value}]}]}
        if ctype in ("instagram", "messenger"):
            return {"object": "instagram" if ctype == "instagram" else "page", "entry": [{
                "id": channel.page_id, "time": epoch * 1000, "messaging": [{
                    "sender": {"id": "PSID-DEMO-%04d" % index}, "recipient": {"id": channel.page_id},
                    "timestamp": epoch * 1000, "message": {"mid": "m.DEMO%d.%d" % (index, epoch), "text": text}}]}]}
        if ctype == "email":
            return self._email_payload(key, cust, when, index, text)
        if ctype == "web_form":
            postcode = self.rng.choice(("80300", "81100", "79250", "80400"))
            return {"name": cust["name"], "phone_e164": cust["phone"], "email": cust["email"],
                    "message": text, "extra": [["postcode", postcode]], "utm": {}}
        agent = self.rng.choice([a for a in self.agents.values() if a["team"] == TEAM_OF[key]])
        referrer = self.env.ref("base.res_partner_address_28", raise_if_not_found=False) \
            or self.env.ref("base.main_partner")
        return {"name": cust["name"], "phone": cust["phone"], "email": cust["email"], "message": text,
                "referred_by_id": referrer.id if ctype == "referral" else False,
                "captured_by": agent["user"].id}

    def _email_payload(self, key, cust, when, index, text):
        ref = 34560000 + index
        if key == "propertyguru":
            subject = "New enquiry for %s (Listing ID: %d)" % (cust["listing"], ref)
            body = ("You have received a new enquiry on PropertyGuru.\n\nListing: %s\nListing ID: %d\n"
                    "Asking price: RM %s\n\nEnquirer details\nName: %s\nMobile: %s\nEmail: %s\n\n"
                    "Message:\n%s\n\nThis enquiry was sent to you via PropertyGuru Malaysia."
                    % (cust["listing"], ref, "{:,}".format(cust["price"]), cust["name"], cust["phone"],
                       cust["email"], text))
            sender = "PropertyGuru <no-reply@propertyguru.com.my>"
        else:
            subject = "iProperty enquiry: Listing %d" % ref
            body = ("New enquiry from iProperty.com.my\n\nProperty: %s\nProperty ID: %d\n"
                    "Sender Name: %s\nSender Contact No.: %s\nSender Email: %s\n\nComments:\n%s\n\n"
                    "Regards,\niProperty.com.my" % (cust["listing"], ref, cust["name"], cust["phone"],
                                                    cust["email"], text))
            sender = "iProperty <noreply@iproperty.com.my>"
        return {"subject": subject, "from": sender, "message_id": "<demo-%s-%d@hartanah-demo.my>" % (key, index),
                "date": fields.Datetime.to_string(when), "body": body}

    def _deliver(self, key, cust, when, index, text):
        """Store the delivery in the inbox and run the inbox job's processing on it."""
        from odoo.addons.lead_channels.core import meta
        channel = self.env.ref("lead_dashboard.demo_channel_" + key)
        payload = self._items(key, channel, cust, when, index, text)
        if channel.channel_type in ("whatsapp", "instagram", "messenger"):
            ids, _dup = self.Event._store(channel.id, meta.split_delivery(payload))
        else:
            kind = {"email": "email", "web_form": "form"}.get(channel.channel_type, "manual")
            ext = payload.get("message_id") or "demo:%s:%d:%d" % (key, index, len(self.events))
            ids = self.Event.create({"channel_id": channel.id, "kind": kind, "external_id": ext,
                                     "payload": json.dumps(payload, ensure_ascii=False)}).ids
        for event_id in ids:
            self.events[event_id] = when
        self.Event.with_context(**self._ctx(when))._process_chunk(ids)
        self.env.cr.flush()  # what the inbox job runs at its commit: routing of the new leads
        # the job, drained, notifies the followers of the customer messages it posted
        self.Event.with_context(**self._ctx(when))._send_inbound_notifications()
        return self.Event.browse(ids).lead_id[:1]

    # ------------------------------------------------------------ steps
    def do_arrive(self, when, index, channel, day):
        team = TEAM_OF[channel]
        cust = self._customer(index, team)
        lead = self._deliver(channel, cust, when, index, self._first_line(cust))
        if not lead:
            return
        self.leads[index] = {"lead": lead, "created": when, "closed": None, "staged": None,
                             "channel": channel, "cust": cust}
        self.apply_contact_name(lead, channel, cust)
        self._plan_lead(when, index, channel, day)
        self.plan_nurture(when, index, channel, day)

    def _plan_lead(self, when, index, channel, day):
        rng = self.rng
        manual = channel in ("walk_in", "referral")
        chat = channel.startswith("wa_") or channel in ("ig", "messenger")
        r = rng.random()
        if manual or r < 0.15:
            self.push(when + timedelta(minutes=rng.randrange(2, 30)), "contacted", index)
            answered = when + timedelta(minutes=30)
        elif r < 0.62:
            answered = when + timedelta(minutes=rng.randrange(2, 45))
            self.push(answered, "reply", index, n=0)
        elif r < 0.84:
            answered = when + timedelta(hours=rng.randrange(2, 7))
            self.push(answered, "reply", index, n=0)
        else:
            return  # never answered: the sweep breaches and escalates it
        if chat and rng.random() < 0.7:
            follow = answered + timedelta(minutes=rng.randrange(10, 180))
            self.push(follow, "follow", index)
            self.push(follow + timedelta(minutes=rng.randrange(5, 60)), "reply", index, n=2)
        if day >= 3 and rng.random() < 0.7:
            self.push(when + timedelta(days=1, hours=rng.randrange(0, 6)), "stage", index, step=1)
        if day >= 8:
            close = when + timedelta(days=rng.randrange(3, min(day, 25)), hours=rng.randrange(0, 6))
            r = rng.random()
            if r < 0.3:
                self.push(close - timedelta(days=1), "stage", index, step=2)
                self.push(close, "won", index)
            elif r < 0.68:
                self.push(close, "lost", index)

    def _as_owner(self, index, when):
        info = self.leads[index]
        lead = info["lead"].with_context(active_test=False)
        lead.invalidate_recordset()
        if not lead.user_id or not lead.active:
            return None, info
        return lead.with_user(lead.user_id).with_context(**self._ctx(when)), info

    def do_reply(self, when, index, n):
        lead, info = self._as_owner(index, when)
        if lead is None:
            return
        agent = self.users.get(lead.user_id.id)
        lang = info["cust"]["lang"]
        text = T.AGENT_REPLIES[lang][n].format(listing=info["cust"]["listing"],
                                              agent=lead.user_id.name.split()[0])
        lead.message_post(body=text, message_type="comment", subtype_xmlid="mail.mt_comment",
                          date=when, author_id=lead.user_id.partner_id.id)
        if agent and n == 0 and self.rng.random() < 0.5:
            lead.write({"expected_revenue": round(info["cust"]["price"] * 0.025, -2)})

    def do_contacted(self, when, index):
        lead, _info = self._as_owner(index, when)
        if lead is not None:
            lead.action_lead_sla_mark_contacted(note=self.rng.choice(T.CONTACTED_NOTES))

    def do_follow(self, when, index):
        info = self.leads[index]
        text = self.rng.choice(T.FOLLOW_LINES[info["cust"]["lang"]]).format(**info["cust"])
        self._deliver(info["channel"], info["cust"], when, index, text)

    def do_stage(self, when, index, step):
        lead, info = self._as_owner(index, when)
        if lead is None or len(self.stages) <= step:
            return
        lead.write({"stage_id": self.stages[step].id})
        info["staged"] = when

    def do_won(self, when, index):
        lead, info = self._as_owner(index, when)
        if lead is None:
            return
        if not lead.expected_revenue:
            lead.write({"expected_revenue": round(info["cust"]["price"] * 0.025, -2)})
        lead.action_set_won()
        info["closed"] = info["staged"] = when

    def do_lost(self, when, index):
        lead, info = self._as_owner(index, when)
        if lead is None:
            return
        lead.action_set_lost(lost_reason_id=self.rng.choice(self.lost_reasons).id)
        info["closed"] = when

    # ------------------------------------------------------------ dates
    def lead_dates(self):
        rows = [(i["lead"].id, i["created"], i["closed"], i["staged"]) for i in self.leads.values()]
        return [list(col) for col in zip(*rows)] if rows else ([], [], [], [])

    def event_dates(self):
        return list(self.events), list(self.events.values())

    def message_steps(self):
        return [s[0] for s in self.steps], [s[1] for s in self.steps]
