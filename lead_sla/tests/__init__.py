from . import test_lead_sla_clock
from . import test_lead_sla_response
from . import test_lead_sla_sweep
from . import test_lead_sla_concurrency
from . import test_lead_sla_report
from . import test_lead_sla_http
from . import test_lead_nurture
from . import test_lead_nurture_concurrency
