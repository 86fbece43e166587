from odoo import api, models


class LeadCachedConfigMixin(models.AbstractModel):
    """Configuration records that the lead hot paths read from the ormcache.

    Rules and policies are read on every lead create or assignment, so they are
    cached in the registry (zero queries when warm); any change of such a
    record clears the cache, in this worker and, through the registry
    signaling, in the others.
    """
    _name = "lead.cached.config.mixin"
    _description = "Lead configuration cached in the registry"

    # fields whose change does not alter the cached configuration
    _lead_cache_neutral_fields = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        res = super().write(vals)
        if set(vals) - self._lead_cache_neutral_fields:
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
