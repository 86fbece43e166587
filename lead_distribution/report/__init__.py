from . import lead_distribution_fairness
