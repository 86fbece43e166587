from . import lead_scoring_health
