import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.lead_channels.core import meta

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestRedeliveryWhileProcessing(TransactionCase):
    """Meta redelivers a message while the inbox job is processing it: the
    webhook answers at once (a duplicate), without waiting for the job's
    commit. Two real transactions; the data is committed by a third cursor
    and removed at cleanup."""

    def setUp(self):
        super().setUp()
        self.items = meta.split_delivery(ChannelsCommon.wa_one(
            "wamid.REDELIVERED1", wa_id="60178880099", name="Redelivered customer", text="Harga?"))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            channel = env["lead.channel"].create({"name": "WA redelivery", "channel_type": "whatsapp",
                                                  "app_secret": "x"})
            event_ids, _dups = env["lead.channel.event"]._store(channel.id, self.items)
            self.channel_id, self.event_id = channel.id, event_ids[0]
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["lead.channel.event"].search([("channel_id", "=", self.channel_id)]).unlink()
            env["lead.channel"].browse(self.channel_id).unlink()

    def test_redelivery_does_not_wait_for_the_job(self):
        with self.registry.cursor() as job_cr, self.registry.cursor() as web_cr:
            # the inbox job has claimed the event and marked it done, not committed yet
            job_cr.execute("SELECT id FROM lead_channel_event WHERE id = %s FOR NO KEY UPDATE",
                           [self.event_id])
            job_cr.execute("UPDATE lead_channel_event SET state = 'done' WHERE id = %s", [self.event_id])
            # the webhook's transaction would wait for the job's commit: not even half a second
            web_cr.execute("SET LOCAL lock_timeout = '500ms'")
            Event = api.Environment(web_cr, SUPERUSER_ID, {})["lead.channel.event"]
            with mute_logger("odoo.sql_db"):
                try:
                    new_ids, duplicates = Event._store(self.channel_id, self.items)
                except psycopg2.errors.LockNotAvailable:
                    self.fail("the redelivery waited for the inbox job's transaction")
            self.assertEqual((new_ids, duplicates), ([], 1), "stored as a duplicate of the event")
            web_cr.commit()
            job_cr.commit()
        with self.registry.cursor() as cr:
            cr.execute("SELECT state, count(*) FROM lead_channel_event WHERE channel_id = %s "
                       "GROUP BY state ORDER BY state", [self.channel_id])
            self.assertEqual(cr.fetchall(), [("done", 1), ("duplicate", 1)])
