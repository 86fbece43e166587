import { registry } from "@web/core/registry";

// Issue 17.8: a sales manager edits an agent's routing settings in the
// Sales Team form, tab "Lead Distribution", without debug mode.
registry.category("web_tour.tours").add("lead_distribution_team_members", {
    steps: () => [
        {
            trigger: ".o_notebook .nav-link:contains(Lead Distribution)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=crm_team_member_ids] th[data-name=lead_weight]",
        },
        {
            trigger: ".o_field_widget[name=crm_team_member_ids] th[data-name=lead_skill_ids]",
        },
        {
            trigger: ".o_field_widget[name=crm_team_member_ids] .o_data_row:contains(Siti) td[name=lead_max_open]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=crm_team_member_ids] .o_selected_row td[name=lead_max_open] input",
            run: "edit 7",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
    ],
});

// Issue 11.6: an agent switches themselves away from the pipeline.
registry.category("web_tour.tours").add("lead_distribution_pipeline_away", {
    steps: () => [
        {
            trigger: ".o_control_panel button[name=action_lead_toggle_my_availability]",
            run: "click",
        },
        {
            trigger: ".o_notification:contains(You are now away)",
        },
    ],
});
