from . import lead_sla_report
