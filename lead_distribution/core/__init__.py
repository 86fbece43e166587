"""Pure-Python decision logic of lead_distribution (no Odoo import)."""
