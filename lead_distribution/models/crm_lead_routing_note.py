"""The one-line chatter note that says why a lead reached its owner.

When routing changes the owner of an existing lead, Odoo logs the change
(tracking) in the chatter at commit: the note becomes the body of that same
message, so a routed lead costs one chatter message, as in Odoo's own
assignment. Notes that no tracking message carries (new leads, whose
tracking Odoo discards; an unchanged owner; tracking switched off) are
logged on their own."""
from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, models

PENDING = "lead_distribution.notes"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    @api.model
    def _lead_distribution_note_batch(self, decisions, tracked=True):
        """A one-line internal note per routed lead (see the module docstring)."""
        bodies = self._lead_distribution_note_bodies(decisions)
        if not bodies:
            return
        Lead = self.env["crm.lead"].sudo()
        context = self.env.context
        if not tracked or context.get("tracking_disable") or context.get("mail_notrack"):
            Lead.browse(list(bodies))._message_log_batch(bodies=bodies)
            return
        pending = self.env.cr.precommit.data.get(PENDING)
        if pending is None:
            pending = self.env.cr.precommit.data[PENDING] = {}
            # added after the owners' writes: runs after Odoo's tracking finalisation
            self.env.cr.precommit.add(self._lead_distribution_post_notes)
        earlier = {lead_id: pending[lead_id] for lead_id in bodies if lead_id in pending}
        if earlier:  # routed twice in one transaction: the first note stays
            Lead.browse(list(earlier))._message_log_batch(bodies=earlier)
        pending.update(bodies)
        by_body = defaultdict(list)
        for lead_id, body in bodies.items():
            by_body[body].append(lead_id)
        for body, ids in by_body.items():
            Lead.browse(ids)._track_set_log_message(body)

    @api.model
    def _lead_distribution_note_bodies(self, decisions):
        # translated once per batch (a lookup per lead cost as much as the note)
        routed_to = _("Routed to %(user)s by rule '%(rule)s': %(reason)s")
        shared = _("Routed to %(user)s, shared in the sales team (no routing rule matched): %(reason)s")
        nobody = _("nobody (waiting in %s)")
        names = {}  # (kind, id) -> display text, read once per record
        bodies = {}
        for d in decisions:
            user, rule = d["user"], d["rule"]
            target_key = ("u", user.id) if user else ("t", d["team"].id)
            if target_key not in names:
                names[target_key] = user.name if user else nobody % d["team"].name
            values = {"user": names[target_key], "reason": d["reason"]}
            if rule:
                if ("r", rule.id) not in names:
                    names[("r", rule.id)] = rule.name
                body = routed_to % dict(values, rule=names[("r", rule.id)])
            else:
                body = shared % values
            bodies[d["lead"].id] = Markup("<p>%s</p>") % body
        return bodies

    def _message_track(self, fields_iter, initial_values_dict):
        tracking = super()._message_track(fields_iter, initial_values_dict)
        pending = self.env.cr.precommit.data.get(PENDING)
        if pending:
            for lead_id, (changes, tracking_value_ids) in tracking.items():
                if changes and tracking_value_ids:
                    pending.pop(lead_id, None)  # the tracking message carries the note
        return tracking

    def _lead_distribution_post_notes(self):
        pending = self.env.cr.precommit.data.pop(PENDING, {})
        leads = self.env["crm.lead"].sudo().browse(list(pending)).exists()
        if leads:
            leads._message_log_batch(bodies={lead.id: pending[lead.id] for lead in leads})
            self.env.flush_all()  # pre-commit hooks run after the ORM's last flush
