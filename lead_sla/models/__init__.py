from . import lead_sla_policy
from . import crm_lead
from . import mail_activity
from . import res_config_settings
from . import res_users
