from odoo import api, models

from ..core.pipeline import Stage, plan_pipeline


class CrmStage(models.Model):
    _inherit = "crm.stage"

    @api.model
    def _lead_apply_recommended_pipeline(self):
        """Make the shared stages (no sales team) the recommended pipeline:
        New Lead, Contacted, Qualified, Proposal / Presentation, Negotiation,
        Won. Matching stages are renamed and reused, so no lead changes stage;
        running it again changes nothing.

        :return: the stages kept after Won because leads are in them
        """
        shared = self.with_context(lang="en_US").search([("team_id", "=", False)])
        Lead = self.env["crm.lead"].with_context(active_test=False)
        with_leads = {stage.id for [stage] in Lead._read_group(
            [("stage_id", "in", shared.ids)], ["stage_id"])}
        plan = plan_pipeline([
            Stage(stage.id, stage.name, stage.sequence, stage.is_won, stage.id in with_leads)
            for stage in shared])
        for name, sequence, is_won, stage_id in plan.stages:
            vals = {"name": name, "sequence": sequence, "is_won": is_won}
            if not stage_id:
                self.create(vals)
                continue
            stage = shared.browse(stage_id)
            changed = {key: value for key, value in vals.items() if stage[key] != value}
            if changed:
                stage.write(changed)
        kept = shared.browse(plan.keep)
        for offset, stage in enumerate(kept, start=len(plan.stages) + 1):
            if stage.sequence != offset:
                stage.sequence = offset
        shared.browse(plan.remove).unlink()
        return kept
