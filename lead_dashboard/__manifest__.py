{
    "name": "Lead Management Dashboard",
    "version": "18.0.1.0.0",
    "summary": "One CRM reporting screen for a period and a team: leads by channel and source, "
    "conversion, response times and SLA compliance per salesperson, capacity, fairness, "
    "nurture, lost reasons and revenue per lead; every figure opens its leads",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "Lead Suite",
    "website": "https://github.com/lead-suite/lead-suite",
    "depends": ["lead_scoring", "lead_distribution", "lead_sla", "lead_channels"],
    "data": [
        "views/lead_dashboard_menus.xml",
    ],
    "demo": [
        "demo/lead_demo_data.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "lead_dashboard/static/src/dashboard/*",
        ],
        "web.assets_tests": [
            "lead_dashboard/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
    "auto_install": True,
}
