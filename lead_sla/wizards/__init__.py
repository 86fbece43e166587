from . import lead_sla_contacted
