/** @odoo-module **/

import { registry } from "@web/core/registry";

// An agent on a phone (390 x 844): marks a walk-in lead contacted, then opens
// a WhatsApp lead from the pipeline and replies through the Reply composer.
registry.category("web_tour.tours").add("lead_dashboard_agent_phone_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            trigger: ".o_kanban_record:contains(Encik Rahim)",
            run: "click",
        },
        {
            // one tap: Mark Contacted sits under the title at phone size
            trigger: ".o_form_view .o_lead_sla_mark_contacted_mobile",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Called, viewing on Saturday at 11am at Bangsar South",
        },
        {
            trigger: ".modal footer button[name=action_confirm]",
            run: "click",
        },
        {
            trigger: ".o_form_view:not(:has(.o_lead_sla_mark_contacted_mobile)) .o_lead_sla_state",
        },
        {
            trigger: "button.o_back_button",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains(Siti Tour)",
            run: "click",
        },
        {
            // on a phone the header buttons live in the gear menu
            trigger: ".o_form_view .o_cp_action_menus button:has(i.fa-cog)",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu button[name=action_open_channel_composer]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=body] textarea",
            run: "edit Boleh, unit masih ada. Viewing Sabtu ini?",
        },
        {
            trigger: ".modal footer button[name=action_send]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o-mail-Message-body:contains(Boleh, unit masih ada)",
        },
    ],
});

// An administrator opens CRM's Settings and edits a routing rule and an SLA
// policy of the demo agency from there.
registry.category("web_tour.tours").add("lead_dashboard_admin_settings_tour", {
    url: "/odoo/action-crm.crm_config_settings_action",
    steps: () => [
        {
            trigger: ".o_setting_container button[name=action_lead_routing_rules]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td[name=name]:contains(Hartanah Demo Penang: round robin)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=strategy] select",
            run: 'select "least_loaded"',
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Settings)",
            run: "click",
        },
        {
            trigger: ".o_setting_container button[name=action_lead_sla_policies]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td[name=name]:contains(Hartanah Demo Hot)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=response_minutes] input",
            run: "edit 10",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});

// A salesperson whose language is Malay opens the pipeline: the suite's
// menus, buttons and badges read in Malay.
registry.category("web_tour.tours").add("lead_dashboard_malay_pipeline_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            trigger: ".o_main_navbar [data-menu-xmlid='lead_channels.lead_channels_menu_conversations']:contains(Perbualan)",
        },
        {
            trigger: ".o_control_panel button[name=action_lead_toggle_my_availability]:contains(Tiada / Kembali)",
        },
        {
            trigger: ".o_kanban_record:contains(Rumah teres Shah Alam) .o_lead_badges:contains(Sejuk)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link:contains(Kelayakan)",
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link:contains(SLA Respons)",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_lead_sla_mark_contacted]:contains(Tanda Sudah Dihubungi)",
        },
    ],
});
