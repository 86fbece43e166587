"""lead_channels' own vocabulary, declared once and imported wherever used.

Import it as ``from odoo.addons.lead_channels.vocabulary import CHANNEL_TYPES``.
"""

CHANNEL_TYPES = [
    ("whatsapp", "WhatsApp"),
    ("facebook_lead_ads", "Facebook / Instagram Lead Ads"),
    ("messenger", "Messenger"),
    ("instagram", "Instagram"),
    ("web_form", "Web Form"),
    ("email", "E-mail"),
    ("walk_in", "Walk-in"),
    ("phone", "Phone"),
    ("referral", "Referral"),
]
# Channels Meta delivers to (signed webhook, Graph API).
META_TYPES = ("whatsapp", "facebook_lead_ads", "messenger", "instagram")
# Channels typed in by an agent (Quick Capture): nothing is delivered to them.
MANUAL_TYPES = ("walk_in", "phone", "referral")
# Font Awesome 4 icon of each channel type (kanban cards).
CHANNEL_ICONS = {
    "whatsapp": "fa-whatsapp",
    "facebook_lead_ads": "fa-facebook-square",
    "messenger": "fa-comments",
    "instagram": "fa-instagram",
    "web_form": "fa-wpforms",
    "email": "fa-envelope",
    "walk_in": "fa-street-view",
    "phone": "fa-phone",
    "referral": "fa-handshake-o",
}
