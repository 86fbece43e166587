from . import lead_sla_report
from . import lead_nurture_report
