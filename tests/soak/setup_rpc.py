"""JSON-RPC to the Odoo servers: the soak's configuration and its agents.

Configuration is done as an administrator would do it through the external
API; agents act through the same API as themselves (their rights apply).
"""
import itertools
import random
import threading
import time

import requests

APP_SECRET = "soak-app-secret-0123456789abcdef"
ACCESS_TOKEN = "soak-access-token-fedcba9876543210"
AGENT_PASSWORD = "soak-agent-password"
WEIGHTS = (1.0, 2.0, 3.0)
NURTURE_SUMMARY = "Soak nurture touch"
MIN_AGENT_ACTIONS = 12


class RpcError(Exception):
    pass


class Rpc:
    def __init__(self, url, db, login, password):
        self.url, self.db, self.password = url, db, password
        self.uid = self._call("common", "login", db, login, password)
        if not self.uid:
            raise RpcError("login %s refused" % login)

    def _call(self, service, method, *args):
        # a fresh connection per call, as a browser after a server restart: a
        # kept-alive socket to a killed server is not the server's failure
        answer = requests.post(self.url + "/jsonrpc", timeout=60, headers={"Connection": "close"}, json={
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": service, "method": method, "args": list(args)}}).json()
        if answer.get("error"):
            data = answer["error"].get("data") or {}
            raise RpcError("%s: %s" % (data.get("name"), data.get("message") or answer["error"]))
        return answer["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", self.db, self.uid, self.password, model, method,
                          list(args), kwargs)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"])
        return rows[0]["res_id"]


def configure(rpc, graph_url):
    """Agents, a weighted pool, four channels and a fast SLA policy; returns the ids."""
    company_id = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
    rpc("res.company", "write", [company_id], {"country_id": rpc.ref("base.my"),
                                               "lead_distribution_instant": True})
    rpc("ir.config_parameter", "set_param", "lead_channels.graph_timeout", "5")
    rpc("lead.routing.rule", "write", rpc("lead.routing.rule", "search", []), {"active": False})
    salesman = rpc.ref("sales_team.group_sale_salesman")
    agents = [rpc("res.users", "create", {
        "name": "Soak Agent %d" % (i + 1), "login": "soak_agent_%d" % (i + 1), "password": AGENT_PASSWORD,
        "email": "soak.agent.%d@example.com" % (i + 1), "tz": "UTC", "notification_type": "inbox",
        "groups_id": [(6, 0, [salesman])]}) for i in range(len(WEIGHTS))]
    team = rpc("crm.team", "create", {"name": "Soak Team", "use_leads": True, "use_opportunities": True,
                                      "user_id": rpc.uid})
    for agent, weight in zip(agents, WEIGHTS):
        rpc("crm.team.member", "create", {"crm_team_id": team, "user_id": agent, "lead_weight": weight})
    common = {"team_id": team, "app_secret": APP_SECRET}
    channels = {
        "whatsapp": dict(common, name="Soak WhatsApp", channel_type="whatsapp", access_token=ACCESS_TOKEN,
                         wa_phone_number_id="PN-SOAK", graph_url=graph_url, verify_token="soak-verify"),
        "messenger": dict(common, name="Soak Messenger", channel_type="messenger", page_id="PAGE-SOAK"),
        "leadads": dict(common, name="Soak Lead Ads", channel_type="facebook_lead_ads", page_id="PAGE-SOAK",
                        access_token=ACCESS_TOKEN, graph_url=graph_url),
        "form": {"name": "Soak Form", "channel_type": "web_form", "team_id": team, "rate_limit": 0},
    }
    ids = {kind: rpc("lead.channel", "create", vals) for kind, vals in channels.items()}
    tokens = {row["id"]: row["token"] for row in rpc("lead.channel", "read", list(ids.values()), ["token"])}
    domain = "[('channel_id', 'in', %s)]" % sorted(ids.values())
    rule = rpc("lead.routing.rule", "create", {
        "name": "Soak pool", "team_id": team, "strategy": "weighted", "fallback": "unassigned",
        "sequence": -100, "domain": domain})
    policy = rpc("lead.sla.policy", "create", {
        "name": "Soak: 2 minutes", "sequence": -100, "domain": domain, "response_minutes": 2,
        "warn_minutes": 1, "reassign_on_breach": False, "escalate_user_ids": [(6, 0, [rpc.uid])]})
    # nurture: cold soak leads enter at their first response; the step is due
    # at once, so the nurture crons of both servers send it during the load
    nurture = rpc("lead.nurture.sequence", "create", {
        "name": "Soak nurture", "trigger": "cold", "sequence": -100, "domain": domain,
        "step_ids": [(0, 0, {"sequence": 1, "delay_days": 0, "action": "activity",
                             "summary": NURTURE_SUMMARY})]})
    return {"company_id": company_id, "agents": dict(zip(agents, WEIGHTS)), "team": team, "rule": rule,
            "policy": policy, "nurture": nurture,
            "channels": {k: {"id": v, "token": tokens[v]} for k, v in ids.items()}}


def agent_rpcs(servers, db, logins):
    """Each agent logged in on each server (``{login: {server name: Rpc}}``),
    before the load, as salespeople have the app open before enquiries come."""
    return {login: {server.name: Rpc(server.url, db, login, AGENT_PASSWORD) for server in servers}
            for login in logins}


def agent(servers, db, login, channel_ids, ledger, until, budget, stop, rpcs=None, pace=None):
    """One salesperson: stage moves, WhatsApp replies from the composer, Mark
    Contacted and tier rises on their own leads, on either server; ``budget``
    actions on leads at most, until ``stop`` is set (after MIN_AGENT_ACTIONS
    successful actions on leads at least) or ``until``.
    The next look when the last one is answered, after a failed call or an
    empty pipeline when the clients' next delivery is answered (progress, no
    timer); ``pace(n)``, given by a benchmark, holds the ``n``-th look until
    its slot in a schedule of its own.
    ``rpcs``: the agent's logins of ``agent_rpcs``; a
    login stays valid across a server's restart (``execute_kw`` sends the
    credentials with every call), so only a refused one is made again."""
    rng = random.Random()
    rpcs = dict(rpcs or {})
    stages = None
    acted = 0  # actions on a lead that succeeded
    tried = 0  # actions on a lead, whatever their outcome: what ``budget`` counts
    for call in itertools.count():
        if tried >= budget:
            break
        if pace:
            pace(call)
        # a few actions on leads at least, so that a short load still answers
        # (and thereby enrols in nurture) some leads: idle looks and calls that
        # met a fault do not count
        if (stop.is_set() and acted >= MIN_AGENT_ACTIONS) or time.time() >= until:
            break
        server = rng.choice(servers)
        start, action, error = time.time(), "look", None
        try:
            rpc = rpcs.get(server.name)
            if rpc is None:
                action = "login"
                rpc = rpcs[server.name] = Rpc(server.url, db, login, AGENT_PASSWORD)
                action = "look"
            if stages is None:
                stages = rpc("crm.stage", "search", [("is_won", "=", False)])
            leads = rpc("crm.lead", "search_read", [("user_id", "=", rpc.uid), ("channel_id", "in", channel_ids)],
                        ["channel_type", "stage_id"], limit=30, order="id desc")
            action = "idle"
            if leads:
                lead = rng.choice(leads)
                action = rng.choices(["stage", "reply", "contacted", "tier"], [4, 3, 2, 1])[0]
                if action == "reply" and lead["channel_type"] != "whatsapp":
                    action = "stage"
                _act(rpc, rng, lead, action, stages)
        except (RpcError, requests.RequestException, ValueError) as exc:
            error = str(exc)[:300]
        tried += action not in ("login", "look", "idle")
        acted += error is None and action not in ("login", "look", "idle")
        with ledger.lock:
            ledger.agent.append((start, server.name, action, error is None, error, time.time()))
        if not pace and (error or action == "idle"):
            # a server that is down answers at once: look again once the load
            # moved on, not in a loop that spends the budget within the fault
            ledger.wait_for_next_answer()


def _act(rpc, rng, lead, action, stages):
    if action == "stage":
        others = [s for s in stages if s != (lead["stage_id"] or [0])[0]]
        rpc("crm.lead", "write", [lead["id"]], {"stage_id": rng.choice(others)})
    elif action == "reply":
        wizard = rpc("lead.channel.whatsapp.composer", "create",
                     {"lead_id": lead["id"], "body": "Yes, it is available. Viewing on Saturday?"})
        rpc("lead.channel.whatsapp.composer", "action_send", [wizard])
    elif action == "contacted":
        rpc("crm.lead", "action_lead_sla_mark_contacted", [lead["id"]],
            note="Called the customer: viewing booked for Saturday morning.")
    else:
        rpc("crm.lead", "write", [lead["id"]], {"lead_budget": 5000, "lead_timeline": "week",
                                                "lead_meeting_requested": True})


class Faults:
    """The fault schedule and the windows the latency figures leave out."""

    def __init__(self):
        self.windows = []  # (name, start, end)
        self.lock = threading.Lock()

    def add(self, name, start, end):
        with self.lock:
            self.windows.append((name, start, end))

    def inside(self, t, margin=2.0, end_t=None):
        """Whether the instant ``t`` (or the span ``t``..``end_t``) meets a fault window."""
        end_t = t if end_t is None else end_t
        return any(start - margin <= end_t and t <= end + margin for _n, start, end in self.windows)
