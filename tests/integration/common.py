"""Base for the cross-addon tests: they need the four addons installed together.

These tests live outside any addon, so the attributes Odoo's test metaclass
gives addon tests (tags, module) are set here by hand.
"""
from odoo.tests import HttpCase, TransactionCase


class SuiteMixin:
    test_tags = {"standard", "post_install", "lead_suite"}
    test_module = "lead_suite"
    test_sequence = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.test_class = cls.__name__


class SuiteTransactionCase(SuiteMixin, TransactionCase):
    pass


class SuiteHttpCase(SuiteMixin, HttpCase):
    pass
