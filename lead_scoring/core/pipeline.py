"""The recommended pipeline: which existing stage becomes which stage.

The seeds' pipeline is New Lead, Contacted, Qualified, Proposal /
Presentation, Negotiation, Won ("Lost" is Odoo's lost state, not a stage).
Existing shared stages are reused where their name matches (New -> New Lead,
Proposition -> Proposal / Presentation ...) and the won stage becomes Won, so
no lead changes stage. A stage matching nothing is removed when no lead is in
it, and kept after Won otherwise (moving leads would count as a stage move).
"""
from dataclasses import dataclass

RECOMMENDED = (
    ("New Lead", ("new lead", "new", "new leads")),
    ("Contacted", ("contacted", "contact made", "first contact")),
    ("Qualified", ("qualified", "qualification")),
    ("Proposal / Presentation", ("proposal / presentation", "proposal/presentation", "proposition",
                                 "proposal", "presentation", "quotation", "demo")),
    ("Negotiation", ("negotiation", "negotiating")),
    ("Won", ("won",)),
)


@dataclass
class Stage:
    id: int
    name: str
    sequence: int
    is_won: bool
    has_leads: bool


@dataclass
class PipelinePlan:
    # [(name, sequence, is_won, id of the existing stage reused or None)]
    stages: list
    remove: list   # ids of unmatched stages without leads
    keep: list     # ids of unmatched stages holding leads, after Won


def plan_pipeline(stages):
    """The plan turning these shared stages into the recommended pipeline."""
    stages = sorted(stages, key=lambda s: (s.sequence, s.id))
    won = next((s for s in stages if s.is_won), None)
    used = {won.id} if won else set()
    plan = []
    for position, (name, aliases) in enumerate(RECOMMENDED, start=1):
        if name == "Won":
            stage = won or next((s for s in stages if s.id not in used
                                 and s.name.strip().lower() in aliases), None)
        else:
            stage = next((s for s in stages if s.id not in used and not s.is_won
                          and " ".join(s.name.lower().split()) in aliases), None)
        if stage:
            used.add(stage.id)
        plan.append((name, position, name == "Won", stage.id if stage else None))
    rest = [s for s in stages if s.id not in used]
    return PipelinePlan(stages=plan, remove=[s.id for s in rest if not s.has_leads],
                        keep=[s.id for s in rest if s.has_leads])
