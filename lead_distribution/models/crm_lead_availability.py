from odoo import _, api, models


class CrmLead(models.Model):
    """Agents' own availability seen from the pipeline (issue 11.6)."""
    _inherit = "crm.lead"

    def action_lead_toggle_my_availability(self):
        """Pipeline button: switch the current user away / back on all their teams.

        ``self`` (the leads shown in the pipeline) is irrelevant: the switch is
        about the user, never about a colleague.
        """
        return self.env["crm.team.member"].action_lead_toggle_available()

    @api.model
    def _lead_distribution_reoffer_hot(self, members):
        """Offer the unanswered hot open leads of agents who just went away to
        the pool again, through the routing rules without them (log kind
        'sla'). Other leads wait for the agent's clock as usual.

        :param members: crm.team.member records switched away
        :return: number of leads that left the agent (another owner, or
                 waiting unassigned in a pool)
        """
        if not members:
            return 0
        pairs = {(m.user_id.id, m.crm_team_id.id) for m in members}
        # the agent may not see every lead of the team (own-documents rule):
        # their own leads are searched and routed as the system
        leads = self.sudo().search(self._lead_open_domain() + [
            ("user_id", "in", members.user_id.ids),
            ("team_id", "in", members.crm_team_id.ids),
            ("lead_tier", "=", "hot"),
        ])
        leads = leads.filtered(
            lambda l: (l.user_id.id, l.team_id.id) in pairs and not l._lead_distribution_is_answered())
        owners = {lead.id: lead.user_id for lead in leads}
        for owner in leads.user_id:
            leads.filtered(lambda l, o=owner: owners[l.id] == o)._lead_distribution_route(
                kind="sla", exclude_users=owner,
                reason=_("%s went away before answering this hot lead", owner.name))
        return sum(1 for lead in leads if lead.user_id != owners[lead.id])
