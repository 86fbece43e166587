from . import test_lead_scoring
from . import test_lead_scoring_health
from . import test_lead_signals
