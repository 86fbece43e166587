"""A Malay-speaking user reads the suite in Malay: each addon's ``i18n/ms.po``
is complete and Odoo loads it for ms_MY (labels, selections, menus, e-mail
templates and the messages ``_()`` produces)."""
import os

import polib

from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path

from .common import SuiteTransactionCase

ADDONS = ("lead_scoring", "lead_distribution", "lead_sla", "lead_channels",
          "lead_dashboard", "lead_nurture_whatsapp")


class TestMalayTranslation(SuiteTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ms_MY")
        cls.installed = cls.env["ir.module.module"].search(
            [("name", "in", ADDONS), ("state", "=", "installed")])
        cls.installed._update_translations(["ms_MY"], overwrite=True)
        cls.env.invalidate_all()
        cls.ms = cls.env(context=dict(cls.env.context, lang="ms_MY"))

    def test_every_po_is_complete(self):
        for addon in ADDONS:
            with self.subTest(addon=addon):
                path = os.path.join(get_module_path(addon), "i18n", "ms.po")
                self.assertTrue(os.path.isfile(path), "%s has no Malay translation" % addon)
                po = polib.pofile(path)
                self.assertEqual(po.metadata.get("Language"), "ms")
                pot = polib.pofile(os.path.join(get_module_path(addon), "i18n", "%s.pot" % addon))
                self.assertFalse({e.msgid for e in pot} - {e.msgid for e in po},
                                 "%s/i18n/ms.po lacks terms of the .pot" % addon)
                untranslated = [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
                self.assertFalse(untranslated, "%s/i18n/ms.po: %d untranslated (first: %r)"
                                 % (addon, len(untranslated), untranslated[:3]))

    def test_lead_tier_label_and_selection_in_malay(self):
        desc = self.ms["crm.lead"].fields_get(["lead_tier"], ["string", "selection"])["lead_tier"]
        self.assertEqual(desc["string"], "Tahap")
        self.assertEqual(dict(desc["selection"]),
                         {"hot": "Panas", "warm": "Suam", "cold": "Sejuk"})

    def test_menus_in_malay(self):
        menu = self.ms.ref("lead_scoring.lead_scoring_rule_menu")
        self.assertEqual(menu.name, "Peraturan Pemarkahan")
        self.assertEqual(self.env.ref("lead_scoring.lead_scoring_rule_menu").name, "Scoring Rules",
                         "English users keep the English menu")

    def test_validation_error_in_malay(self):
        with self.assertRaises(ValidationError) as caught:
            self.ms["lead.scoring.rule"].create(
                {"name": "Bajet besar", "points": 10, "domain": "not a list"})
        message = str(caught.exception)
        self.assertIn("Penapis peraturan pemarkahan 'Bajet besar' tidak sah", message)
        self.assertIn("bukan senarai syarat", message)
        self.assertIn("Sunting penapis dengan editor domain", message)

    def test_nurture_email_in_malay_keeps_placeholders(self):
        template = self.ms.ref("lead_sla.mail_template_nurture_cold_day1")
        self.assertTrue(template.subject.startswith("Terima kasih atas pertanyaan anda, {{"))
        body = str(template.body_html)
        self.assertIn("Salam hormat,", body)
        self.assertIn("object.partner_id.name or object.contact_name", body)
        self.assertNotIn("Best regards", body)
