{
    "name": "Lead Nurture: WhatsApp step",
    "version": "18.0.1.0.0",
    "summary": "Nurture sequences of lead_sla can send the channel's approved WhatsApp "
    "re-engagement template through lead_channels",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "Lead Suite",
    "website": "https://github.com/lead-suite/lead-suite",
    "depends": ["lead_sla", "lead_channels"],
    "data": [],
    "installable": True,
    "auto_install": True,
    "application": False,
}
