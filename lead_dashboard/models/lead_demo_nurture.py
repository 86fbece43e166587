"""Steps of the demo's simulation that exercise nurture and contact names.

Nurture runs as in production: a cold lead's first response and a lead lost
with one of the sequence's reasons enrol it (lead_sla's own write hooks, at
the simulated instant through the ``lead_sla_now`` clock hook), the nurture
cron's worker sends each step when it falls due (``_lead_nurture_run`` with
the simulated ``now``), the customer's e-mail answer goes through Odoo's mail
gateway (``message_process``, a reply to the nurture e-mail) and stops the
sequence as "replied". Messenger / Instagram contacts get the name the Graph
name job would fetch, through that job's own ``_apply_name``.
"""
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import timedelta, timezone

from . import lead_demo_texts as T

# channels whose enquiries carry an e-mail address (the demo's nurture e-mails them)
EMAIL_CHANNELS = ("propertyguru", "iproperty", "form", "walk_in", "referral")


class NurtureSteps:
    """Mixed into the demo's ``_Simulation`` (uses its env, rng, heap, leads)."""

    def mark(self, when):
        """Messages written from here on are dated ``when`` (see _demo_shift_dates)."""
        self.env.cr.execute("SELECT COALESCE(max(id), 0) + 1 FROM mail_message")
        self.steps.append((self.env.cr.fetchone()[0], when))

    def nurture(self, until):
        """The nurture cron, woken at each step's due instant before ``until``."""
        Lead = self.env["crm.lead"]
        for _i in range(500):
            due = Lead._lead_nurture_next_due()
            if not due or due > until:
                return
            self.mark(due)
            Lead.with_context(lead_sla_now=due)._lead_nurture_run(now=due)
            self.env.cr.flush()
            self.nurture_runs += 1

    def plan_nurture(self, when, index, channel, day):
        """Some customers answer a nurture e-mail a few days after their
        enquiry (only those still in nurture by then do)."""
        if channel in EMAIL_CHANNELS and day >= 3 and self.rng.random() < 0.45:
            answer = when + timedelta(days=self.rng.randrange(2, min(day, 16) + 1),
                                      hours=self.rng.randrange(0, 8))
            if answer < self.now:
                self.push(answer, "nurture_reply", index)

    def do_nurture_reply(self, when, index):
        info = self.leads[index]
        lead = info["lead"].with_context(active_test=False)
        lead.invalidate_recordset()
        if lead.nurture_state != "running" or not lead.active:
            return
        sent = self.env["mail.message"].sudo().search([
            ("model", "=", "crm.lead"), ("res_id", "=", lead.id),
            ("message_type", "=", "email_outgoing"), ("message_id", "!=", False)],
            order="id desc", limit=1)
        if not sent:
            return
        cust = info["cust"]
        msg = EmailMessage()
        msg["From"] = "%s <%s>" % (cust["name"], cust["email"])
        msg["To"] = lead.user_id.email_formatted or sent.email_from
        msg["Subject"] = "Re: %s" % (sent.subject or "")
        msg["Message-Id"] = make_msgid(domain="example.my")
        msg["In-Reply-To"] = msg["References"] = sent.message_id
        msg["Date"] = format_datetime(when.replace(tzinfo=timezone.utc))
        msg.set_content(self.rng.choice(T.NURTURE_REPLIES[cust["lang"]]).format(**cust))
        # Odoo's mail gateway, as the fetchmail server hands it a customer's answer
        self.env["mail.thread"].with_context(**self._ctx(when)).message_process(
            False, msg.as_string())
        # the owner answers and books the viewing
        self.push(when + timedelta(minutes=self.rng.randrange(20, 180)), "reply", index, n=2)
        if self.rng.random() < 0.55:
            won = when + timedelta(days=self.rng.randrange(2, 9), hours=self.rng.randrange(0, 6))
            if won < self.now:
                self.push(won, "nurture_won", index)

    def do_nurture_won(self, when, index):
        """The answer led to a viewing and a sale."""
        lead, info = self._as_owner(index, when)
        if lead is None or (lead.probability or 0) >= 100:
            return
        if len(self.stages) > 2:
            lead.write({"stage_id": self.stages[2].id})
        self.do_won(when, index)

    def apply_contact_name(self, lead, key, cust):
        """What the Graph name job does for a new Messenger / Instagram
        contact, with the answer Graph would give (no network in a demo)."""
        from odoo.addons.lead_channels.core import media
        if key not in ("ig", "messenger") or not lead.channel_contact_ref:
            return
        rows = self.env["lead.channel.contact.name"].sudo().search([
            ("channel_id", "=", lead.channel_id.id), ("contact_ref", "=", lead.channel_contact_ref),
            ("state", "=", "pending")])
        first, _sep, last = cust["name"].partition(" ")
        if key == "ig":
            data = {"name": cust["name"], "username": cust["name"].split()[0].lower() + "_kl"}
        else:
            data = {"first_name": first, "last_name": last}
        name = media.contact_name(lead.channel_id.channel_type, data)
        for row in rows:
            row._apply_name(name[:200])
            row.write({"state": "done", "name": name[:200], "error": False, "next_attempt_at": False})
