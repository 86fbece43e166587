"""Plain-Python decision logic of lead_sla (no Odoo import)."""
from . import clock, nurture, settings  # noqa: F401
