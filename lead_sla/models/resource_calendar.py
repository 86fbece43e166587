"""The response clocks cache working intervals per calendar and day
(``crm.lead._lead_sla_cached_intervals``): a change of working hours or of
a public holiday clears that cache."""
from odoo import api, models


class ResourceCalendar(models.Model):
    _name = "resource.calendar"
    _inherit = ["resource.calendar", "lead.cached.config.mixin"]


class ResourceCalendarAttendance(models.Model):
    _name = "resource.calendar.attendance"
    _inherit = ["resource.calendar.attendance", "lead.cached.config.mixin"]


class ResourceCalendarLeaves(models.Model):
    _inherit = "resource.calendar.leaves"

    # Only leaves of no particular resource (public holidays, closures) move
    # the clocks; an employee's time off does not clear the cache.
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records._lead_sla_has_public():
            self.env.registry.clear_cache()
        return records

    def write(self, vals):
        public = self._lead_sla_has_public()
        res = super().write(vals)
        if public or self._lead_sla_has_public():
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        public = self._lead_sla_has_public()
        res = super().unlink()
        if public:
            self.env.registry.clear_cache()
        return res

    def _lead_sla_has_public(self):
        """Whether some of these leaves concern no particular resource."""
        return any(not leave.resource_id for leave in self)
