/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager opens CRM > Reporting > Lead Management, switches to 90 days and
// drills into the overdue leads.
registry.category("web_tour.tours").add("lead_dashboard_overdue_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            trigger: ".o_main_navbar button[data-menu-xmlid='crm.crm_menu_report'], .o_main_navbar [data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            trigger: ".dropdown-menu [data-menu-xmlid='lead_dashboard.lead_dashboard_menu']:first-child",
            run: "click",
        },
        {
            trigger: ".o_lead_dashboard .o_lead_dashboard_period[data-period='90']",
            run: "click",
        },
        {
            trigger: ".o_lead_dashboard .o_lead_dashboard_period.btn-primary[data-period='90']",
        },
        {
            trigger: ".o_lead_dashboard .o_lead_dashboard_overdue .o_lead_dashboard_fig:contains(1)",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(Dashboard tour overdue lead)",
        },
    ],
});
