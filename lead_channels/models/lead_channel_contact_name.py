from urllib.parse import quote

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import media

NAME_FIELDS = {"messenger": "first_name,last_name", "instagram": "name,username"}


class LeadChannelContactName(models.Model):
    """The real name of a new Messenger / Instagram contact, asked from Graph
    once per contact (one row per channel and PSID / IGSID) by the fetch job,
    never in the webhook's answer. Until it is known the contact keeps its
    placeholder ("Messenger user 1234")."""
    _name = "lead.channel.contact.name"
    _inherit = ["lead.channel.fetch.mixin"]
    _description = "Lead Channel Contact Name"
    _order = "id desc"
    _rec_name = "contact_ref"

    contact_ref = fields.Char(required=True, readonly=True, help="Messenger PSID or Instagram IGSID.")
    partner_id = fields.Many2one("res.partner", ondelete="cascade", readonly=True)
    placeholder = fields.Char(readonly=True, help="The name shown until the real one is known.")
    name = fields.Char(readonly=True, help="The name Meta gave.")

    _sql_constraints = [
        ("channel_contact_uniq", "unique (channel_id, contact_ref)", "A contact's name is asked once."),
    ]

    @api.model
    def _request(self, channel, contact_ref, partner, placeholder):
        """Queue the name of a contact unless it was queued before (one statement)."""
        # ON CONFLICT: a contact's name is asked once, even by two jobs at once; our own table
        self.env.cr.execute(SQL("""
            INSERT INTO lead_channel_contact_name (channel_id, contact_ref, partner_id, placeholder, state,
                                                   attempts, create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, 'pending', 0, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (channel_id, contact_ref) DO NOTHING RETURNING id
        """, channel.id, contact_ref, partner.id or None, placeholder, self.env.uid, self.env.uid))
        if self.env.cr.fetchone():
            self._trigger_fetch()

    @api.model
    def _queue_existing_placeholders(self):
        """Install / update: the Messenger and Instagram contacts captured
        before names were fetched still carry their placeholder; queue them
        (set-based, idempotent)."""
        # our own table, filled from the leads in one statement (ON CONFLICT keeps it idempotent)
        self.env.cr.execute("""
            INSERT INTO lead_channel_contact_name (channel_id, contact_ref, partner_id, placeholder, state,
                                                   attempts, create_uid, create_date, write_uid, write_date)
            SELECT DISTINCT ON (l.channel_id, l.channel_contact_ref) l.channel_id, l.channel_contact_ref,
                   p.id, p.name, 'pending', 0, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC'
              FROM crm_lead l
              JOIN lead_channel c ON c.id = l.channel_id AND c.channel_type IN ('messenger', 'instagram')
              JOIN res_partner p ON p.id = l.partner_id
             WHERE l.channel_contact_ref IS NOT NULL
               AND p.name IN ('Messenger user ' || right(l.channel_contact_ref, 4),
                              'Instagram user ' || right(l.channel_contact_ref, 4))
             ORDER BY l.channel_id, l.channel_contact_ref, l.id DESC
            ON CONFLICT (channel_id, contact_ref) DO NOTHING
        """, [self.env.uid, self.env.uid])

    def _fetch_one(self):
        channel = self.channel_id.sudo()
        wanted = NAME_FIELDS.get(channel.channel_type)
        if not wanted:
            raise UserError(_("Only Messenger and Instagram contacts get their name from Meta."))
        data = channel._graph_call("GET", "%s?fields=%s" % (quote(self.contact_ref, safe=""), wanted))
        name = media.contact_name(channel.channel_type, data)
        if not name:
            raise UserError(_("Meta gave no name for this contact (the person may restrict it)."))
        self._apply_name(name[:200])
        self.write({"state": "done", "name": name[:200], "error": False, "next_attempt_at": False})

    def _apply_name(self, name):
        """The contact and its leads take the real name where they still show
        the placeholder (an agent's own edit is kept)."""
        placeholder = self.placeholder
        partner = self.partner_id
        if partner and (not placeholder or partner.name == placeholder):
            partner.write({"name": name})
        leads = self.env["crm.lead"].sudo().with_context(active_test=False, tracking_disable=True).search(
            [("channel_id", "=", self.channel_id.id), ("channel_contact_ref", "=", self.contact_ref)])
        for lead in leads:
            values = {}
            if not lead.contact_name or lead.contact_name == placeholder:
                values["contact_name"] = name
            if placeholder and placeholder in (lead.name or ""):
                values["name"] = lead.name.replace(placeholder, name)
            if values:
                lead.write(values)
