from . import lead_nurture_step
from . import crm_lead
