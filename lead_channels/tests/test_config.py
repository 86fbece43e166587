from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestChannelConfig(ChannelsCommon, TransactionCase):

    def test_invalid_settings_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "must start with https"):
            self.wa.graph_url = "graph.facebook.com/v21.0"
        with self.assertRaisesRegex(ValidationError, "Only e-mail channels"):
            self.wa.alias_name = "whatsapp-inbox"
        many2one = self.env["ir.model.fields"]._get("crm.lead", "user_id")
        with self.assertRaisesRegex(ValidationError, "cannot receive answers"):
            self.fb.field_map_ids = [(0, 0, {"source_key": "owner", "field_id": many2one.id})]
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.form.rate_limit = -1
            self.form.flush_recordset()

    def test_token_unique_regenerable_and_urls(self):
        self.assertGreaterEqual(len(self.wa.token), 32)
        self.assertNotEqual(self.wa.token, self.fb.token)
        old = self.wa.token
        self.wa.action_regenerate_token()
        self.assertNotEqual(self.wa.token, old)
        self.assertTrue(self.wa.webhook_url.endswith("/lead_channels/meta/%s" % self.wa.token))
        self.assertTrue(self.form.form_url.endswith("/lead_channels/form/%s" % self.form.token))
        self.assertFalse(self.walk_in.webhook_url)

    def test_unique_channel_external_id(self):
        values = {"channel_id": self.wa.id, "kind": "whatsapp_message", "external_id": "wamid.U1",
                  "payload": "{}"}
        self.Event.create(values)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.Event.create(values)
        # another channel may see the same id
        self.Event.create(dict(values, channel_id=self.messenger.id))

    def test_channel_with_deliveries_is_archived_not_deleted(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.DEL"))
        with self.assertRaisesRegex(UserError, "archive it"):
            self.wa.unlink()
        self.walk_in.unlink()  # never used: may go
