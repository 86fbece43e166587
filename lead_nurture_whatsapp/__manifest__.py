{
    "name": "Lead Nurture: WhatsApp step",
    "version": "18.0.1.0.0",
    "summary": "Bridge of lead_sla and lead_channels: nurture sequences send the channel's approved "
    "WhatsApp re-engagement template, and CRM > Conversations shows each lead's SLA badge",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "Lead Suite",
    "website": "https://github.com/lead-suite/lead-suite",
    "depends": ["lead_sla", "lead_channels"],
    "data": ["views/crm_lead_conversation_views.xml"],
    "installable": True,
    "auto_install": True,
    "application": False,
}
