from . import models
from . import wizards


def _post_init_hook(env):
    """Score the leads that existed before the module: the rules are data, so
    the stored fields were computed before any rule existed."""
    env["crm.lead"].with_context(active_test=False).search(
        [("active", "=", True), ("probability", "<", 100)]).action_lead_rescore()
