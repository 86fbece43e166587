from . import models
from . import wizards


def _post_init_hook(env):
    """Score the leads that existed before the module: the rules are data, so
    the stored fields were computed before any rule existed."""
    Lead = env["crm.lead"].with_context(active_test=False)
    Lead.search(Lead._lead_open_domain()).action_lead_rescore()
