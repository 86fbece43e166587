"""Pure-Python decision logic of lead_channels (never imports odoo)."""
