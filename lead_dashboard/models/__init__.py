from . import crm_lead
from . import lead_dashboard
from . import lead_demo
