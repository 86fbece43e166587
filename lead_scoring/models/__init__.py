from . import lead_cached_config_mixin
from . import lead_domain_rule_mixin
from . import res_company
from . import res_config_settings
from . import lead_scoring_rule
from . import crm_lead
from . import crm_stage
from . import mail_message
