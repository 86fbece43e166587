"""lead_distribution's selections, declared once and imported by its models.

The codes are those of :mod:`.core` (``core.rotation.STRATEGIES``); the
labels are what users read (Odoo translates selection labels).
"""
STRATEGY_SELECTION = [
    ("round_robin", "Round Robin"),
    ("weighted", "Weighted Round Robin"),
    ("least_loaded", "Least Loaded"),
]
# what a routing rule does when nobody in its pool is available
RULE_FALLBACK_SELECTION = [
    ("next_rule", "Try the next rule"),
    ("user", "Give to a fallback salesperson"),
    ("unassigned", "Leave in the team, unassigned"),
]
# the company's choice: the default of new rules' fallback, and what happens
# to a lead of a sales team that no rule matches ("team": its members share it)
COMPANY_FALLBACK_SELECTION = RULE_FALLBACK_SELECTION + [
    ("team", "Share among the lead's sales team"),
]
LOG_KIND_SELECTION = [
    ("auto", "Automatic"), ("manual", "Manual"), ("sla", "SLA Breach"), ("transfer", "Transfer"),
    ("tier", "Tier Rise"),
]
