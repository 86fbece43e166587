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


def waits_for_rule_lock(registry, thread):
    """Whether ``thread``'s transaction comes to wait for a routing rule's row
    lock, watched in pg_stat_activity while the thread runs (at most about 10 s)."""
    with registry.cursor() as probe:
        for _i in range(200):
            probe.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND query LIKE '%FROM lead_routing_rule%FOR UPDATE%'")
            waited = bool(probe.fetchone()[0])
            probe.rollback()  # activity statistics are a snapshot per transaction
            if waited or not thread.is_alive():
                return waited
            thread.join(0.05)
    return False
