import ast

from odoo import api, models
from odoo.tools.rendering_tools import parse_inline_template
from odoo.tools.safe_eval import safe_eval

from .mail_template import BATCH_RENDER_KEY


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _render_template_inline_template(self, template_txt, model, res_ids,
                                         add_context=None, options=None):
        if self.env.context.get(BATCH_RENDER_KEY) and len(res_ids) > 1:
            rendered = self._lead_nurture_render_inline_batch(
                template_txt, model, res_ids, add_context=add_context)
            if rendered is not None:
                return rendered
        return super()._render_template_inline_template(
            template_txt, model, res_ids, add_context=add_context, options=options)

    @api.model
    def _lead_nurture_render_inline_batch(self, template_txt, model, res_ids, add_context=None):
        """A ``{{ … }}`` template (subject, sender, recipients) rendered for
        all ``res_ids`` with one evaluation, or None when Odoo's per-record
        rendering must be used.

        Odoo evaluates each expression once per record through ``safe_eval``,
        which parses and checks the expression each time: a 1,000-lead batch
        of the nurture cron spent more time there than in the e-mails' texts.
        Here the expressions of the template are evaluated in one list
        comprehension over the records, in the same sandbox and with the same
        variables (``object`` bound to each record), and joined exactly as
        ``render_inline_template`` joins them. Any error falls back to Odoo's
        path, which raises its usual message.
        """
        if not template_txt or not model:
            return None
        text = str(template_txt)
        restricted = not self._unrestricted_rendering and not self.env.is_admin() \
            and not self.env.user.has_group("mail.group_mail_template_editor")
        # plain field paths are rendered by Odoo without any evaluation: cheap
        if restricted or not self._has_unsafe_expression_template_inline_template(text, model):
            return None
        instructions = parse_inline_template(text)
        expressions = [expr for _literal, expr, _default in instructions if expr]
        try:
            # each expression must stand on its own, as Odoo evaluates it
            for expr in expressions:
                ast.parse(expr, mode="eval")
        except SyntaxError:
            return None
        variables = self._render_eval_context()
        if add_context:
            variables.update(**add_context)
        records = self.env[model].browse(res_ids)
        variables["lead_nurture_records"] = records
        code = "[(%s,) for object in lead_nurture_records]" % ", ".join(
            "(%s)" % expr for expr in expressions)
        try:
            values = safe_eval(code, variables)
        except Exception:  # noqa: BLE001 - Odoo's path renders again and reports the error
            return None
        results = {}
        for record, record_values in zip(records, values):
            parts, record_values = [], iter(record_values)
            for literal, expr, default in instructions:
                parts.append(literal)
                if expr:
                    value = next(record_values) or default
                    if value:
                        parts.append(str(value))
            results[record.id] = "".join(parts)
        return results
