"""Territory matching of a lead from its country, state, postcode and city."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Territory:
    id: int
    country_id: int = 0
    state_ids: frozenset = frozenset()
    zip_prefixes: tuple = ()
    city_names: tuple = ()
    company_id: int = 0


def split_list(text):
    """'75, 92 ,,93' -> ('75', '92', '93') (lower-cased, stripped)."""
    return tuple(p.strip().lower() for p in (text or "").split(",") if p.strip())


def match_territory(territories, country_id=0, state_id=0, zip_code="", city="", company_id=0):
    """Most specific territory matching the address, or 0.

    Every criterion set on a territory must match; the territory setting the
    most criteria wins (a longer postcode prefix beats a shorter one), ties
    by lowest id.
    """
    zip_code = (zip_code or "").replace(" ", "").lower()
    city = (city or "").strip().lower()
    best, best_score = 0, None
    for t in territories:
        if t.company_id and company_id and t.company_id != company_id:
            continue
        score = 0
        if t.country_id:
            if t.country_id != country_id:
                continue
            score += 1
        if t.state_ids:
            if state_id not in t.state_ids:
                continue
            score += 10
        if t.city_names:
            if city not in t.city_names:
                continue
            score += 100
        if t.zip_prefixes:
            hits = [len(p) for p in t.zip_prefixes if zip_code.startswith(p.replace(" ", ""))]
            if not hits:
                continue
            score += 1000 + max(hits)
        if not score:
            continue  # a territory with no criterion matches nothing
        key = (score, -t.id)
        if best_score is None or key > best_score:
            best, best_score = t.id, key
    return best
