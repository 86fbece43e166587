"""Every word a user reads can be translated: each addon's ``i18n/<addon>.pot``
holds every term Odoo's exporter finds in its code, views and data."""
import os

import polib

from odoo.modules.module import get_module_path
from odoo.tools.translate import TranslationModuleReader

from .common import SuiteTransactionCase

ADDONS = ("lead_scoring", "lead_distribution", "lead_sla", "lead_channels", "lead_nurture_whatsapp")


class TestTranslationTemplates(SuiteTransactionCase):

    def test_pot_files_hold_every_term(self):
        for addon in ADDONS:
            if not self.env["ir.module.module"].search_count(
                    [("name", "=", addon), ("state", "=", "installed")]):
                continue
            with self.subTest(addon=addon):
                path = os.path.join(get_module_path(addon), "i18n", "%s.pot" % addon)
                self.assertTrue(os.path.isfile(path), "%s has no translation template" % addon)
                in_pot = {entry.msgid for entry in polib.pofile(path)}
                reader = TranslationModuleReader(self.env.cr, modules=[addon])
                terms = {row[4] for row in reader if row[0] == addon}
                missing = sorted(terms - in_pot)
                self.assertFalse(
                    missing,
                    "%s/i18n/%s.pot is stale, %d terms missing (first: %r); export it again "
                    "with odoo -d DB --i18n-export=%s/i18n/%s.pot --modules=%s"
                    % (addon, addon, len(missing), missing[:3], addon, addon, addon))
