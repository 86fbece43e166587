import secrets

from markupsafe import Markup

from odoo import models

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
