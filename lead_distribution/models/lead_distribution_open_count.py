from odoo import api, fields, models
from odoo.exceptions import MissingError
from odoo.tools import SQL

from ..core.open_counts import drift, owner_deltas

# precommit data key: {lead id: owner counted for it in the table (0: nobody)}
PENDING = "lead_distribution.open_count"
# from this many leads, owners are read with one grouped query (fewer: from the
# records, which costs no query when they are already read)
BULK = 500


class LeadDistributionOpenCount(models.Model):
    """Open leads per salesperson, kept up to date instead of counted.

    Routing needs, for caps and least loaded, how many open leads (active,
    not won; any team, any company) each agent owns. Counting them in
    ``crm_lead`` on every create costs as much as the agents' open leads;
    this table answers in one index lookup per pool.

    How it stays right: ``crm.lead`` create / write (owner, active, stage,
    probability) / unlink remember each touched lead's owner as counted
    before; the net deltas are applied with one upsert per batch, when the
    transaction commits (precommit, also at every flushing savepoint) and
    before routing reads the counts. Concurrent transactions add to the same
    row under PostgreSQL's row lock (REPEATABLE READ: the later one fails and
    is retried, never losing an update). Changes made outside the ORM are
    caught by the daily repair job (``_cron_repair_open_counts``).
    """
    _name = "lead.distribution.open.count"
    _description = "Open Leads per Salesperson"
    _log_access = False
    _rec_name = "user_id"

    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade")
    count = fields.Integer(string="Open Leads", readonly=True)

    _sql_constraints = [
        ("user_uniq", "unique(user_id)", "One open-lead count per salesperson."),
    ]

    # ------------------------------------------------------------------
    # Remembering what changes (called by crm.lead, no query of its own)
    # ------------------------------------------------------------------
    @api.model
    def _pending(self):
        """The transaction's pending {lead id: owner counted}, registering
        the settlement at commit the first time."""
        data = self.env.cr.precommit.data
        if PENDING not in data:
            data[PENDING] = {}
            self.env.cr.precommit.add(self.sudo()._settle_open_counts_at_commit)
        return data[PENDING]

    @api.model
    def _owners_counted(self, leads):
        """{lead id: owner id if the lead is open now, else 0} (read from the
        records, or for BULK leads and more with one grouped query)."""
        leads = leads.sudo().with_context(active_test=False)
        if len(leads) < BULK:
            owned = leads.filtered(lambda lead: lead.user_id and lead.active)
            counted = {lead.id: lead.user_id.id for lead in owned._lead_filter_open()}
        else:
            # a batch (backlog routing, mass update): one grouped read instead
            # of reading each lead's owner, activity and probability
            counted = {lead_id: user.id for user, ids in leads._read_group(
                [("id", "in", leads.ids), ("user_id", "!=", False)] + leads._lead_open_domain(),
                ["user_id"], ["id:array_agg"]) for lead_id in ids}
        return {lead_id: counted.get(lead_id, 0) for lead_id in leads.ids}

    @api.model
    def _note_new_leads(self, leads):
        pending = self._pending()
        pending.update(dict.fromkeys(leads.ids, 0))  # a new lead was counted for nobody

    @api.model
    def _note_changing_leads(self, leads):
        """Remember the counted owner of ``leads`` before a change (first
        change in the transaction only: later ones keep the first value)."""
        pending = self._pending()
        fresh = leads.browse([lead_id for lead_id in leads.ids if lead_id not in pending])
        if fresh:
            pending.update(self._owners_counted(fresh))

    @api.model
    def _owners_counted_before(self, leads):
        """{lead id: owner the table counts it for} (pending or read now)."""
        pending = self.env.cr.precommit.data.get(PENDING, {})
        known = {lead_id: pending[lead_id] for lead_id in leads.ids if lead_id in pending}
        owners = self._owners_counted(leads.browse([i for i in leads.ids if i not in known]))
        owners.update(known)
        return owners

    @api.model
    def _note_deleted_leads(self, owners):
        """Leads deleted: ``owners`` {lead id: owner counted before the
        change} leave the counts now (same savepoint as the deletion)."""
        pending = self.env.cr.precommit.data.get(PENDING, {})
        for lead_id in owners:
            pending.pop(lead_id, None)
        self._apply_deltas(owner_deltas((owner, 0) for owner in owners.values()))

    # ------------------------------------------------------------------
    # Settling and reading
    # ------------------------------------------------------------------
    def _settle_open_counts_at_commit(self):
        self._settle_open_counts()
        # reading a lead may have computed something: precommit hooks run after
        # the ORM's last flush (nothing to write: no query)
        self.env.flush_all()

    def _settle_open_counts(self):
        """Apply the pending changes: one upsert for all of them."""
        pending = self.env.cr.precommit.data.pop(PENDING, None)
        if not pending:
            return
        leads = self.env["crm.lead"].browse(list(pending))
        try:
            now = self._owners_counted(leads)
        except MissingError:  # deleted outside the ORM's unlink (e.g. a cascade)
            now = self._owners_counted(leads.exists())
        self._apply_deltas(owner_deltas((owner, now.get(lead_id, 0)) for lead_id, owner in pending.items()))

    @api.model
    def _apply_deltas(self, deltas):
        if not deltas:
            return
        users = list(deltas)
        # raw SQL on our own table: an atomic add under the row lock (ON CONFLICT),
        # which the ORM's read-modify-write cannot give
        self.env.cr.execute(SQL(
            """INSERT INTO lead_distribution_open_count (user_id, count)
               SELECT user_id, delta FROM unnest(%s::int[], %s::int[]) AS d(user_id, delta)
               ORDER BY user_id
               ON CONFLICT (user_id) DO UPDATE
               SET count = lead_distribution_open_count.count + EXCLUDED.count""",
            users, [deltas[user_id] for user_id in users]))
        self.invalidate_model(["count"])

    @api.model
    def _open_counts(self, user_ids):
        """{user id: open leads} of ``user_ids`` (absent: none), the
        transaction's own changes included."""
        self._settle_open_counts()
        if not user_ids:
            return {}
        # our own table, read without the ORM's record layer: one index lookup
        self.env.cr.execute(SQL(
            "SELECT user_id, count FROM lead_distribution_open_count WHERE user_id = ANY(%s) AND count <> 0",
            list(user_ids)))
        return dict(self.env.cr.fetchall())

    # ------------------------------------------------------------------
    # Repair (install, update, daily job)
    # ------------------------------------------------------------------
    @api.model
    def _repair_open_counts(self):
        """Recount every salesperson's open leads (one grouped count on the
        partial index ``crm_lead_open_user_id_index``) and fix the rows that
        differ. Returns the number of rows fixed."""
        self._settle_open_counts()
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        domain = [("user_id", "!=", False)] + Lead._lead_open_domain()
        truth = {user.id: count for user, count in Lead._read_group(domain, ["user_id"], ["__count"])}
        # our own table, whole: read in one statement, no records needed
        self.env.cr.execute(SQL("SELECT user_id, count FROM lead_distribution_open_count"))
        wrong = drift(dict(self.env.cr.fetchall()), truth)
        if wrong:
            users = sorted(wrong)
            # our own table: set the recounted values in one statement
            self.env.cr.execute(SQL(
                """INSERT INTO lead_distribution_open_count (user_id, count)
                   SELECT user_id, count FROM unnest(%s::int[], %s::int[]) AS d(user_id, count)
                   ON CONFLICT (user_id) DO UPDATE SET count = EXCLUDED.count""",
                users, [wrong[user_id] for user_id in users]))
            self.invalidate_model(["count"])
        return len(wrong)

    @api.model
    def _cron_repair_open_counts(self):
        fixed = self._repair_open_counts()
        self.env["ir.cron"]._notify_progress(done=fixed, remaining=0)
        return fixed
