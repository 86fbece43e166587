from odoo import fields, models


class LeadSkill(models.Model):
    _name = "lead.skill"
    _description = "Lead Routing Skill"
    _order = "category, name"

    name = fields.Char(required=True, translate=True)
    category = fields.Char(
        default="other", help="Kind of skill, e.g. language, product line, segment.")
    active = fields.Boolean(default=True)
    color = fields.Integer()

    _sql_constraints = [
        ("name_category_uniq", "unique(name, category)", "A skill with this name already exists in this category."),
    ]
