from . import models
from . import wizards
from . import report

# Columns of the clock are created before the ORM sees the fields, so that
# installing the addon does not start clocks on every existing lead.
PRE_COLUMNS = [
    ("sla_policy_id", "int4"),
    ("sla_user_id", "int4"),
    ("sla_start", "timestamp"),
    ("sla_warn_at", "timestamp"),
    ("sla_deadline", "timestamp"),
    ("sla_status", "varchar"),
    ("sla_response_minutes", "float8"),
]


def _pre_init_hook(env):
    cr = env.cr
    for name, sql_type in PRE_COLUMNS:
        cr.execute(f'ALTER TABLE crm_lead ADD COLUMN IF NOT EXISTS "{name}" {sql_type}')
    cr.execute("UPDATE crm_lead SET sla_status = 'none' WHERE sla_status IS NULL")
