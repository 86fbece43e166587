/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { formatFloat } from "@web/core/utils/numbers";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const { DateTime } = luxon;

// views to open the records behind a figure, per model
const VIEWS = {
    "crm.lead": [[false, "list"], [false, "kanban"], [false, "form"]],
    "crm.team.member": [[false, "list"], [false, "kanban"], [false, "form"]],
    "lead.distribution.fairness": [[false, "list"], [false, "pivot"]],
};

/**
 * Lead Management dashboard: every figure of one period and team, from one
 * server call (lead.dashboard.get_dashboard_data). Each figure carries the
 * domain of its records; clicking it opens them.
 */
export class LeadDashboard extends Component {
    static template = "lead_dashboard.LeadDashboard";
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        const today = DateTime.local();
        this.state = useState({
            period: "30",
            dateFrom: today.minus({ days: 29 }).toISODate(),
            dateTo: today.toISODate(),
            teamId: false,
            data: null,
            error: false,
            loading: true,
        });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call(
                "lead.dashboard", "get_dashboard_data",
                [this.state.dateFrom, this.state.dateTo],
                { team_id: this.state.teamId || false },
            );
            this.state.error = false;
        } finally {
            this.state.loading = false;
        }
    }

    get periods() {
        return [
            { key: "7", label: _t("7 days") },
            { key: "30", label: _t("30 days") },
            { key: "90", label: _t("90 days") },
            { key: "custom", label: _t("Custom") },
        ];
    }

    setPeriod(key) {
        this.state.period = key;
        if (key !== "custom") {
            const today = DateTime.local();
            this.state.dateFrom = today.minus({ days: Number(key) - 1 }).toISODate();
            this.state.dateTo = today.toISODate();
            this.load();
        }
    }

    setDate(which, ev) {
        if (!ev.target.value) {
            return;
        }
        this.state[which] = ev.target.value;
        this.load();
    }

    setTeam(ev) {
        this.state.teamId = Number(ev.target.value) || false;
        this.load();
    }

    open(figure, title) {
        if (!figure) {
            return;
        }
        const model = figure.model || "crm.lead";
        this.actionService.doAction({
            type: "ir.actions.act_window",
            name: title,
            res_model: model,
            domain: figure.domain,
            views: VIEWS[model] || [[false, "list"], [false, "form"]],
            target: "current",
        });
    }

    bar(value, max) {
        return max ? Math.max(2, Math.round((100 * value) / max)) : 0;
    }

    maxOf(rows, key) {
        return Math.max(0, ...rows.map((row) => row[key].value));
    }

    pct(value) {
        return value === null || value === undefined ? "–" : `${formatFloat(value, { digits: [false, 1] })} %`;
    }

    minutes(value) {
        if (value === null || value === undefined) {
            return "–";
        }
        if (value < 60) {
            return _t("%s min", Math.round(value));
        }
        if (value < 24 * 60) {
            return _t("%s h", formatFloat(value / 60, { digits: [false, 1] }));
        }
        return _t("%s d", formatFloat(value / (24 * 60), { digits: [false, 1] }));
    }

    money(value) {
        if (value === null || value === undefined) {
            return "–";
        }
        const { symbol, position, digits } = this.state.data.currency;
        const amount = formatFloat(value, { digits: [false, digits] });
        return position === "before" ? `${symbol} ${amount}` : `${amount} ${symbol}`;
    }

    loadClass(agent) {
        if (agent.load === null) {
            return "bg-info";
        }
        return agent.load >= 100 ? "bg-danger" : agent.load >= 80 ? "bg-warning" : "bg-success";
    }
}

registry.category("actions").add("lead_dashboard.dashboard", LeadDashboard);
