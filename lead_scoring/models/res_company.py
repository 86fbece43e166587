from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core.scoring import ThresholdError, check_thresholds


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_hot_threshold = fields.Integer(
        string="Hot Lead Threshold", default=60,
        help="Leads scoring at or above this are hot.")
    lead_warm_threshold = fields.Integer(
        string="Warm Lead Threshold", default=30,
        help="Leads scoring at or above this (and below the hot threshold) are warm.")
    lead_budget_fit_min = fields.Monetary(
        string="Minimum Fitting Budget", currency_field="currency_id",
        help="A lead whose stated budget reaches this amount fits our pricing tier. "
        "Leave empty to disable the 'budget fits pricing tier' signal.")
    lead_read_signals = fields.Boolean(
        string="Read Signals from Messages", default=True,
        help="Fill a lead's empty budget, timeline, meeting, competitor and decision-maker "
        "fields from what the customer writes (English, Malay, Chinese).")

    @api.constrains("lead_hot_threshold", "lead_warm_threshold")
    def _check_lead_thresholds(self):
        for company in self:
            try:
                check_thresholds(company.lead_hot_threshold, company.lead_warm_threshold)
            except ThresholdError as e:
                raise ValidationError(_("Lead scoring thresholds of %(company)s: %(error)s",
                                        company=company.name, error=e)) from e

    def write(self, vals):
        res = super().write(vals)
        if {"lead_hot_threshold", "lead_warm_threshold", "lead_budget_fit_min"} & set(vals):
            self.env["crm.lead"]._lead_scoring_request_rescore()
        return res
