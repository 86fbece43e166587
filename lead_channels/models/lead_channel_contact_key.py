from odoo import fields, models


class LeadChannelContactKey(models.Model):
    """Mutex rows for find-or-create of a lead per contact.

    Each delivery upserts the rows of its contact keys (phone, contact ref,
    e-mail) before searching for the open lead. Two transactions handling the
    same new contact conflict on these rows: the second waits, then fails with
    a serialization error (REPEATABLE READ) and is retried in a fresh
    transaction that sees the lead the first one created. An advisory lock
    alone would not do under REPEATABLE READ: the snapshot predates the wait.
    """
    _name = "lead.channel.contact.key"
    _description = "Lead Channel Contact Key"
    _log_access = False

    key = fields.Char(required=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    touched_at = fields.Datetime()

    _sql_constraints = [
        ("key_company_uniq", "unique (key, company_id)", "A contact key exists once per company."),
    ]

    def _lock_keys(self, company_id, keys):
        """Upsert (and so row-lock) the keys in one statement, always in the
        same order (code point order, as Python sorts them)."""
        keys = sorted({key[:255] for key in keys})
        if not keys:
            return
        self.env.cr.execute("""
            INSERT INTO lead_channel_contact_key (key, company_id, touched_at)
                 SELECT key, %s, now() at time zone 'UTC'
                   FROM unnest(%s::varchar[]) AS key
                  ORDER BY key COLLATE "C"
            ON CONFLICT (key, company_id) DO UPDATE SET touched_at = EXCLUDED.touched_at
        """, [company_id, keys])
