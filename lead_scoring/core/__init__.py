"""Pure-Python scoring logic: no Odoo import, testable and benchmarkable alone."""
