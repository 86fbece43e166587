from datetime import date, datetime, timedelta

from odoo.tests import TransactionCase, new_test_user

# a closed period of the past: demo leads (created at install) stay out of it
PERIOD = ("2025-03-01", "2025-03-31")
IN_PERIOD = datetime(2025, 3, 10, 9, 0, 0)
BEFORE_PERIOD = datetime(2025, 2, 20, 9, 0, 0)


def percentile_cont(values, fraction):
    """PostgreSQL's percentile_cont, computed here independently."""
    values = sorted(values)
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


class DashboardCase(TransactionCase):
    """Two teams of company A, one team of company B, leads with known
    channels, sources, stages, outcomes and response times."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True,
                                       mail_create_nolog=True, tz="UTC"))
        # routing rules would move our leads; their owners are given here
        cls.env["lead.routing.rule"].search([]).active = False
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Dashboard Company B"})
        both = [(6, 0, (cls.company_a | cls.company_b).ids)]

        def user(login, groups, name, company=cls.company_a):
            return new_test_user(
                cls.env, login=login, name=name, tz="UTC", groups=groups + ",base.group_user",
                company_id=company.id, company_ids=both)
        cls.manager = user("dash_manager", "sales_team.group_sale_manager", "Dash Manager")
        cls.alice = user("dash_alice", "sales_team.group_sale_salesman_all_leads", "Dash Alice")
        cls.bob = user("dash_bob", "sales_team.group_sale_salesman_all_leads", "Dash Bob")
        cls.carol = user("dash_carol", "sales_team.group_sale_salesman_all_leads", "Dash Carol")
        cls.dave = user("dash_dave", "sales_team.group_sale_salesman", "Dash Dave (own leads)")
        cls.erin = user("dash_erin", "sales_team.group_sale_salesman_all_leads", "Dash Erin",
                        company=cls.company_b)
        Team = cls.env["crm.team"]
        cls.team_kl = Team.create({"name": "Dash Kuala Lumpur", "company_id": cls.company_a.id})
        cls.team_pg = Team.create({"name": "Dash Penang", "company_id": cls.company_a.id})
        cls.team_b = Team.create({"name": "Dash Company B", "company_id": cls.company_b.id})
        Member = cls.env["crm.team.member"]
        cls.m_alice = Member.create({"crm_team_id": cls.team_kl.id, "user_id": cls.alice.id,
                                     "lead_max_open": 4})
        cls.m_bob = Member.create({"crm_team_id": cls.team_kl.id, "user_id": cls.bob.id,
                                   "lead_available": False})
        cls.m_dave = Member.create({"crm_team_id": cls.team_kl.id, "user_id": cls.dave.id})
        cls.m_carol = Member.create({"crm_team_id": cls.team_pg.id, "user_id": cls.carol.id,
                                     "lead_max_open": 10})
        cls.m_erin = Member.create({"crm_team_id": cls.team_b.id, "user_id": cls.erin.id})
        Channel = cls.env["lead.channel"]
        cls.whatsapp = Channel.create({"name": "Dash WhatsApp", "channel_type": "whatsapp"})
        cls.web = Channel.create({"name": "Dash Web Form", "channel_type": "web_form"})
        cls.whatsapp_b = Channel.create({"name": "Dash WhatsApp B", "channel_type": "whatsapp",
                                         "company_id": cls.company_b.id})
        Source = cls.env["utm.source"]
        cls.src_guru = Source.create({"name": "Dash PropertyGuru"})
        cls.src_fb = Source.create({"name": "Dash Facebook"})
        cls.stages = cls.env["crm.stage"].search([("team_id", "=", False)], order="sequence, id")
        cls.won_stage = cls.stages.filtered("is_won")[:1]
        cls.reason_price = cls.env["crm.lost.reason"].create({"name": "Dash Too expensive"})
        cls.reason_gone = cls.env["crm.lost.reason"].create({"name": "Dash Bought elsewhere"})

    @classmethod
    def _lead(cls, user, team, channel=None, source=None, stage=0, outcome="open",
              revenue=0.0, created=IN_PERIOD, sla=None, minutes=None, reason=None,
              company=None):
        """One lead; ``sla`` is the clock outcome (met/late/breached/running),
        ``minutes`` the response time when answered."""
        lead = cls.env["crm.lead"].create({
            "name": "Dash lead", "type": "opportunity",
            "user_id": user.id if user else False, "team_id": team.id,
            "company_id": (company or team.company_id).id,
            "channel_id": channel.id if channel else False,
            "source_id": source.id if source else False,
            "stage_id": (cls.won_stage if outcome == "won" else cls.stages[stage]).id,
            "expected_revenue": revenue,
        })
        if outcome == "won":
            lead.action_set_won()
        elif outcome == "lost":
            lead.action_set_lost(lost_reason_id=reason.id if reason else False)
        # clock outcomes and creation dates are history: written as the
        # sweeps and the first-response events leave them
        start = created + timedelta(minutes=5)
        cls.env.flush_all()
        cls.env.cr.execute("""
            UPDATE crm_lead SET create_date = %s, sla_status = %s, sla_start = %s,
                   sla_first_response_date = %s, sla_response_minutes = %s
             WHERE id = %s""", [
            created, sla or "none", start if sla else None,
            start + timedelta(minutes=minutes) if minutes is not None else None,
            minutes or 0.0, lead.id])
        lead.invalidate_recordset()
        return lead

    def _data(self, user=None, team=None, period=PERIOD, companies=None):
        env = self.env(user=user or self.manager)
        if companies:
            env = env(context=dict(env.context, allowed_company_ids=companies.ids))
        return env["lead.dashboard"].get_dashboard_data(*period, team_id=team.id if team else False)

    @staticmethod
    def today():
        return date.today()
