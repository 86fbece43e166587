"""The suite's shared vocabulary, declared once and imported by every addon.

``lead_scoring`` is the layer all other addons depend on, so what an "open"
lead is and the selections several addons use live here. Import them as
``from odoo.addons.lead_scoring.vocabulary import OPEN_LEAD_DOMAIN``.
"""
from odoo.tools import SQL

TIER_SELECTION = [("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")]
TIER_RANK = {"cold": 0, "warm": 1, "hot": 2}
TIMELINE_SELECTION = [
    ("week", "This week"), ("month", "This month"), ("quarter", "This quarter"),
    ("later", "Later"), ("unknown", "Unknown"),
]

# An open lead is active and neither won nor lost: Odoo sets probability 100
# on won leads and archives lost ones. A NULL probability (imported rows,
# probability computation disabled) is open too.
OPEN_LEAD_DOMAIN = [
    ("active", "=", True), "|", ("probability", "=", False), ("probability", "<", 100),
]


def open_lead_sql(alias="crm_lead"):
    """The same condition as OPEN_LEAD_DOMAIN, for SQL on our own reports and
    claims (``alias`` is the crm_lead table's alias in the query)."""
    table = SQL.identifier(alias)
    return SQL("(%s.active AND (%s.probability IS NULL OR %s.probability < 100))",
               table, table, table)
