from odoo.tests import tagged

from .common import HOT, LeadDistributionCase


@tagged("post_install", "-at_install")
class TestOwnerNotified(LeadDistributionCase):

    def _live_notifications(self):
        return [v for v in self.env.cr.precommit.data.get("bus.bus.values", [])
                if '"simple_notification"' in v.get("message", "")]

    def test_agent_is_told_live_of_a_routed_lead(self):
        self._rule()
        self.env.cr.precommit.data.pop("bus.bus.values", None)
        lead = self.Lead.create(dict(HOT, name="Condo viewing"))
        self.assertEqual(lead.user_id, self.ali)
        notes = self._live_notifications()
        self.assertEqual(len(notes), 1, "one live notification for the new owner")
        self.assertIn("New lead for you: Condo viewing (Hot)", notes[0]["message"])

    def test_one_notification_per_agent_and_batch(self):
        self._rule()
        self.env.cr.precommit.data.pop("bus.bus.values", None)
        self._leads(6)
        notes = self._live_notifications()
        self.assertEqual(len(notes), 3, "one per agent, not one per lead")
        self.assertTrue(all("2 new leads for you" in n["message"] for n in notes))

    def test_no_notification_when_nobody_is_available(self):
        self._rule(fallback="unassigned")
        (self.m_ali | self.m_siti | self.m_bo).write({"lead_available": False})
        self.env.cr.precommit.data.pop("bus.bus.values", None)
        lead = self._leads(1)
        self.assertFalse(lead.user_id)
        self.assertFalse(self._live_notifications())
