"""What the SLA reports read: overdue leads, the exception report mailed to
managers, and the follow-up discipline after the first response."""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools.sql import create_index

from ..core.clock import time_left, working_minutes_between
from ..core.settings import next_followup


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def init(self):
        super().init()
        # The follow-up planner reads only these partial indexes (one per half
        # of its domain), so with nothing due it costs what the answered /
        # nurtured open leads cost, never a scan of every open lead; the ORM
        # cannot declare a partial index.
        open_owned = "active AND (probability IS NULL OR probability < 100) AND user_id IS NOT NULL"
        create_index(self.env.cr, "crm_lead_sla_followup_answered_idx", self._table, ["id"],
                     where="sla_first_response_date IS NOT NULL AND " + open_owned)
        create_index(self.env.cr, "crm_lead_sla_followup_nurture_idx", self._table,
                     ["sla_policy_id"],
                     where="sla_first_response_date IS NULL AND sla_policy_id IS NOT NULL AND "
                     + open_owned)

    # ------------------------------------------------------------------
    # Overdue leads and the exception report
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_overdue_domain(self):
        """Open leads whose deadline passed and that nobody answered yet."""
        return [("sla_status", "=", "breached"), ("sla_first_response_date", "=", False)] \
            + self._lead_open_domain()

    @api.model
    def _lead_sla_report_recipients(self, leads):
        """{user: overdue leads} for the managers told of each breach."""
        result = {}
        for lead_id, users in leads._lead_sla_managers_by_lead().items():
            for user in users:
                result.setdefault(user, self.browse())
                result[user] |= self.browse(lead_id)
        return result

    @api.model
    def _cron_lead_sla_exception_report(self, now=None, force=False):
        now = now or fields.Datetime.now()
        # sudo: the cron reads its own settings
        ICP = self.env["ir.config_parameter"].sudo()
        interval = float(ICP.get_param("lead_sla.report_interval_hours") or 2)
        last = ICP.get_param("lead_sla.report_last_sent")
        last = fields.Datetime.to_datetime(last) if last else None
        if last and not force:
            calendar = self.env.company.resource_calendar_id
            intervals = self._lead_sla_intervals(calendar.id, last, now) if calendar else None
            if working_minutes_between(last, now, intervals) < interval * 60:
                return False
        # sudo: every owner's overdue leads, each mailed to its managers only
        leads = self.sudo().search(self._lead_sla_overdue_domain(), order="sla_deadline")
        template = self.env.ref("lead_sla.mail_template_lead_sla_exception_report")
        sent = 0
        for user, user_leads in self._lead_sla_report_recipients(leads).items():
            template.with_context(lead_sla_overdue_ids=user_leads.ids, lead_sla_now=now) \
                .send_mail(user.id, email_layout_xmlid="mail.mail_notification_light")
            sent += 1
        ICP.set_param("lead_sla.report_last_sent", fields.Datetime.to_string(now))
        return sent

    def _lead_sla_age_label(self, now=None):
        """How long the deadline has passed (or is ahead), e.g. '5 min overdue'."""
        self.ensure_one()
        now = now or self._lead_sla_now()
        return self._lead_sla_time_label(now, self.sla_deadline) if self.sla_deadline else ""

    def _lead_sla_age_text(self, now=None):
        """Time since the clock started, e.g. '1 h 5 min'."""
        self.ensure_one()
        now = now or self._lead_sla_now()
        if not self.sla_start:
            return ""
        days, hours, minutes, _overdue = time_left(now, self.sla_start)
        return self._lead_sla_duration_text(days, hours, minutes)

    # ------------------------------------------------------------------
    # Follow-up discipline and nurture
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_followup_domain(self):
        return self._lead_open_domain() + [
            ("user_id", "!=", False), ("activity_ids", "not any", []),
            "|", ("sla_first_response_date", "!=", False),
            ("sla_policy_id.nurture_days", ">", 0)]

    @api.model
    def _lead_sla_followup_domains(self):
        """``_lead_sla_followup_domain()`` as disjoint domains, each served by
        a partial index (see ``init``): PostgreSQL cannot use an index for the
        OR across the lead and its policy. The policies are few: their ids are
        read first (archived ones too, like the ORM's many2one path)."""
        # "not any" keeps the activity test a subquery in SQL; "= False" would
        # first read the ids of every lead's activity into Python
        base = self._lead_open_domain() + [("user_id", "!=", False),
                                           ("activity_ids", "not any", [])]
        domains = [base + [("sla_first_response_date", "!=", False)]]
        # sudo: the cron plans for every company's policies
        nurture = self.env["lead.sla.policy"].sudo().with_context(active_test=False).search(
            [("nurture_days", ">", 0)])
        if nurture:
            domains.append(base + [("sla_first_response_date", "=", False),
                                   ("sla_policy_id", "in", nurture.ids)])
        return domains

    @api.model
    def _cron_lead_sla_followup(self, now=None, batch_size=1000):
        """Plan the next step of open leads that have none."""
        now = now or fields.Datetime.now()
        # sudo: the cron plans every owner's follow-ups
        Lead = self.sudo()
        domains = self._lead_sla_followup_domains()
        # the first batch_size ids of the union, as one search on the OR would give
        ids = sorted({lead_id for domain in domains
                      for lead_id in Lead.search(domain, limit=batch_size, order="id").ids})
        leads = Lead.browse(ids[:batch_size])
        cadence = self._lead_sla_cadence()
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        vals_list = []
        for lead in leads:
            if lead.sla_first_response_date:
                due = next_followup(lead.sla_first_response_date, now, cadence)
                days = (due - lead.sla_first_response_date).days
                summary = _("Follow-up (day %s after first contact)", days)
            else:
                due = now + timedelta(days=lead.sla_policy_id.nurture_days)
                summary = _("Nurture follow-up")
            vals_list.append({
                "res_model_id": model_id,
                "res_id": lead.id,
                "activity_type_id": todo.id if todo else False,
                "summary": summary,
                "date_deadline": fields.Date.context_today(lead, due),
                "user_id": lead.user_id.id,
            })
        # sudo: see above (also for the count of what remains)
        activities = self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True).create(vals_list)
        remaining = sum(Lead.search_count(domain) for domain in domains) \
            if len(leads) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(leads), remaining=remaining)
        return activities
