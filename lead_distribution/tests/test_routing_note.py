from odoo.tests import tagged

from .common import LeadDistributionCase


@tagged("post_install", "-at_install")
class TestRoutingNote(LeadDistributionCase):
    """Why a lead reached its owner is said once in the chatter: in the
    message that logs the owner change, or on its own when there is none."""

    def setUp(self):
        super().setUp()
        self.rule = self._rule(name="Main")
        self.Tracked = self.Lead.with_context(tracking_disable=False)

    def _notes(self, lead, text):
        return lead.message_ids.filtered(lambda m: text in (m.body or ""))

    def test_reassignment_note_is_the_owner_change_message(self):
        lead = self.Tracked.create({"name": "Existing lead", "type": "lead", "user_id": self.bo.id})
        self.env.cr.flush()  # as if committed earlier: its changes are tracked from now on
        lead._lead_distribution_route(kind="sla", exclude_users=self.bo)
        self.env.cr.flush()
        self.assertEqual(lead.user_id, self.ali)
        note = self._notes(lead, "Routed to Ali by rule 'Main'")
        self.assertEqual(len(note), 1, "one message says who and why")
        self.assertEqual(note.tracking_value_ids.field_id.mapped("name"), ["user_id"])
        self.assertEqual(note.tracking_value_ids.old_value_char, "Bo")

    def test_note_without_owner_change_is_logged_on_its_own(self):
        self.m_ali.lead_available = self.m_siti.lead_available = False
        lead = self.Tracked.create({"name": "Existing lead", "type": "lead", "user_id": self.bo.id})
        self.env.cr.flush()
        lead._lead_distribution_route(kind="sla")  # Bo is the only one available: same owner
        self.env.cr.flush()
        self.assertEqual(lead.user_id, self.bo)
        note = self._notes(lead, "Routed to Bo by rule 'Main'")
        self.assertEqual(len(note), 1)
        self.assertFalse(note.tracking_value_ids)

    def test_new_lead_note_is_logged_at_once(self):
        lead = self.Tracked.create({"name": "New lead", "type": "lead"})
        self.assertEqual(len(self._notes(lead, "Routed to Ali by rule 'Main'")), 1)

    def test_new_lead_routed_at_commit_shows_no_owner_change(self):
        """The inbox job creates leads and routes them as its transaction
        commits: like a lead created with its owner, the chatter shows the
        one note, without an owner "change" from nobody."""
        lead = self.Tracked.with_context(lead_distribution_route_at_commit=True).create(
            {"name": "From WhatsApp", "type": "lead"})
        self.env.cr.flush()  # what commit() runs: the pre-commit hooks route the lead
        self.assertEqual(lead.user_id, self.ali)
        self.assertEqual(len(self._notes(lead, "Routed to Ali by rule 'Main'")), 1)
        self.assertFalse(lead.message_ids.sudo().tracking_value_ids)
