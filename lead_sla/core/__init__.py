"""Plain-Python decision logic of lead_sla (no Odoo import)."""
from . import clock, settings  # noqa: F401
