import ast
import secrets

from markupsafe import Markup

from odoo import api, models
from odoo.tools.rendering_tools import parse_inline_template
from odoo.tools.safe_eval import safe_eval

# Context key set by the nurture cron only: its e-mail steps render one
# template for many leads at once.
BATCH_RENDER_KEY = "lead_nurture_batch_render"


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def _render_field(self, field, res_ids, *args, **kwargs):
        if field == "body_html" and len(res_ids) > 1 and self.env.context.get(BATCH_RENDER_KEY):
            rendered = self._lead_nurture_render_body_batch(res_ids, *args, **kwargs)
            if rendered is not None:
                return rendered
        return super()._render_field(field, res_ids, *args, **kwargs)

    def _lead_nurture_render_body_batch(self, res_ids, engine="inline_template",
                                        compute_lang=False, set_lang=False,
                                        add_context=None, options=None):
        """The body rendered for all ``res_ids`` in one QWeb pass, or None
        when the usual per-record rendering must be used.

        Odoo renders an inline QWeb body record by record and compiles it
        again for each (the compiled code of a template source is not
        cached): 1,000 nurture e-mails cost 1,000 compilations. Here the body
        is wrapped in a ``t-foreach`` over the records, compiled once per
        language, and the output is cut at a random separator. ``object`` is
        bound to each record exactly as in the per-record rendering, so the
        texts are the same (tested).
        """
        self.ensure_one()
        if add_context or not self.body_html:
            return None
        restricted = not self._unrestricted_rendering and not self.env.is_admin() \
            and not self.env.user.has_group("mail.group_mail_template_editor")
        model = self.render_model
        # a template without code is rendered by Odoo's regex mode, not QWeb:
        # cheap already, and its output differs slightly from QWeb's
        if restricted or not model \
                or not self._has_unsafe_expression_template_qweb(self.body_html, model):
            return None
        if compute_lang:
            groups = self._classify_per_lang(res_ids)
        elif set_lang:
            groups = {set_lang: (self.with_context(lang=set_lang), res_ids)}
        else:
            groups = {None: (self, res_ids)}
        field_options = dict(self._fields["body_html"].render_options or {}, **(options or {}))
        separator = "leadnurture%s" % secrets.token_hex(16)
        results = {}
        for template, ids in groups.values():
            ids = list(ids)
            # each record's body in a <div>, as Odoo wraps it for one record
            source = ('<t t-foreach="lead_nurture_records" t-as="object">'
                      '<t t-out="lead_nurture_separator"/><div>%s</div></t>' % template.body_html)
            output = template._render_template(
                source, model, ids[:1], engine="qweb",
                add_context={"lead_nurture_records": template.env[model].browse(ids),
                             "lead_nurture_separator": separator},
                options=field_options)[ids[0]]
            parts = str(output).split(separator)
            if len(parts) != len(ids) + 1 or parts[0].strip() or not all(
                    part.startswith("<div>") and part.endswith("</div>") for part in parts[1:]):
                return None
            wrap = Markup if isinstance(output, Markup) else str
            results.update(zip(ids, (wrap(part[5:-6]) for part in parts[1:])))
        return results

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
        """A ``{{ … }}`` template (subject, recipients) rendered for
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
