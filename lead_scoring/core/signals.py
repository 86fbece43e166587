"""Buying signals read from a customer's message.

``read_signals(text, currency="MYR", today=None)`` returns the signals the
reader is sure of, as ``{kind: Signal(kind, value, phrase)}`` where ``phrase``
is the part of the message it read them from:

- ``budget``: the amount the customer can or will spend, in the company's
  currency (a float). "below 700k" reads 700,000 (a ceiling is the budget);
  a range "500-600k" reads its upper bound. An amount counts only with a cue
  that it is the customer's own (budget, max, below, around, offer, I can pay,
  预算, bajet, bawah ...) and none that it is something else (a price asked
  about, a fee, a deposit, a loan, a salary, a cash back). Unit numbers,
  sizes, phone numbers, counts and years are never amounts. Amounts in another
  currency are ignored. Two different budgets in one message read nothing.
- ``timeline``: ``week``, ``month``, ``quarter`` or ``later`` (the values of
  ``crm.lead.lead_timeline``); the nearest one said wins. Month names and
  "this year" need ``today`` (a ``datetime.date``); without it they are skipped.
- ``meeting``: a viewing, visit, meeting, appointment, demo or test drive is
  asked for (not a call back, not photos, not "sea view").
- ``competitor``: the customer works with, or talks to, another agent, agency,
  dealer or vendor.
- ``decision_maker``: only when explicit ("I'm the owner", "I decide").

Languages: English, Malay, Manglish short forms, simplified Chinese. When
unsure, a signal is left out: a wrong budget is worse than none. Every pattern
is compiled once at import; a message costs a few dozen regex scans.
"""
import re
from dataclasses import dataclass

BUDGET = "budget"
TIMELINE = "timeline"
MEETING = "meeting"
COMPETITOR = "competitor"
DECISION_MAKER = "decision_maker"
KINDS = (BUDGET, TIMELINE, MEETING, COMPETITOR, DECISION_MAKER)
TIMELINES = ("week", "month", "quarter", "later")  # nearest first



@dataclass(frozen=True)
class Signal:
    kind: str
    value: object
    phrase: str


class Gated:
    """A pattern tried only when its cheap gate (plain keywords, no word
    boundaries: a fast scan) finds one of its keywords in the text."""

    def __init__(self, gate, pattern, flags=0):
        self.gate = re.compile(gate)
        self.pattern = re.compile(pattern, flags)

    def finditer(self, text):
        return self.pattern.finditer(text) if self.gate.search(text) else ()

    def search(self, text):
        return self.pattern.search(text) if self.gate.search(text) else None


# ---------------------------------------------------------------------------
# Clauses and masks
# ---------------------------------------------------------------------------
# clause ends: sentence punctuation, new lines, and commas or dots that are not
# inside a number ("RM 750,000", "1.2m" stay whole)
CLAUSE_END = re.compile(r"[?!;\n，。？！；]+|(?<!\d)[.,]|[.,](?!\d)|\s[-–]\s")
# runs of digits, to find the numbers that are never amounts: phone numbers,
# identity cards, account numbers, dates and times
DIGIT_RUN = re.compile(r"[+\d][\d\s/:.-]*\d(?:\s?[ap]m\b)?")


def _mask_numbers(text):
    """The text with phone numbers, identity cards, dates and times blanked
    (same length, so positions still point into the original)."""
    parts, last = [], 0
    for match in DIGIT_RUN.finditer(text):
        run = match.group()
        digits = sum(ch.isdigit() for ch in run)
        phone = digits >= 9 or (run[0] in "0+" and digits >= 7 and "." not in run)
        if phone or "/" in run or ":" in run or run[-1] == "m":
            parts += [text[last:match.start()], "§" * len(run)]
            last = match.end()
    return "".join(parts) + text[last:] if parts else text


# ---------------------------------------------------------------------------
# Budget
# ---------------------------------------------------------------------------
CURRENCY_TOKENS = {
    "MYR": ("rm", "myr", "ringgit"), "SGD": ("sgd", "s$"), "USD": ("usd", "us$", "$"),
    "IDR": ("rp", "idr"), "EUR": ("eur", "€"), "GBP": ("gbp", "£"), "CNY": ("rmb", "cny", "¥"),
    "THB": ("thb", "฿"), "PHP": ("php", "₱"), "AUD": ("aud", "a$"), "HKD": ("hkd", "hk$"),
}
_ALL_TOKENS = sorted({t for tokens in CURRENCY_TOKENS.values() for t in tokens}, key=len, reverse=True)
CUR = "(?:%s)" % "|".join(re.escape(t) for t in _ALL_TOKENS)
NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
MULT = r"k|mil(?:lion)?|mill|mio|m|juta|jt|ribu|rb|thousand|万|千"
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "ribu": 1e3, "rb": 1e3, "千": 1e3, "万": 1e4}
AMOUNT = Gated(r"\d|sejuta", rf"""
    (?<![0-9.,/#+\-])
    (?:(?P<cur1>{CUR})\s?)?
    (?:(?P<n1>{NUM})\s?(?P<m1>{MULT})?(?![a-z0-9%²])\s?
       (?:-|–|~|to|ke|hingga|sampai|until|到|至)\s?(?:(?P<cur2>{CUR})\s?)?)?
    (?:(?P<n2>{NUM})\s?(?P<m2>{MULT})?|(?P<sejuta>sejuta))
    (?![a-z0-9%²\-]|\.\d)
    (?:\s?(?P<cur3>ringgit|myr)\b)?
""", re.X)
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
CN_AMOUNT = Gated("万", r"(?P<cn>[一二两三四五六七八九十百千]+)万")
BUDGET_WORD = r"budget|bajet|bajed|bjt|budjet|bugdet|buget|budged|预算"
BUDGET_WORD_RE = re.compile(r"\b(?:%s)\b|预算" % BUDGET_WORD)
BARE_CUE = re.compile(r"(?:%s|max(?:imum)?|i can pay|most i can)\W{0,3}(?:\w+\W+){0,3}$" % BUDGET_WORD)
# cues that the amount is the customer's own
def _words(words, other=""):
    """One pattern for a list of words or phrases, each whole: the word
    boundaries are factored out of the alternation, which keeps the scan
    several times faster than ``\\bone\\b|\\btwo\\b``. ``other`` is added as is
    (Chinese has no word boundaries)."""
    pattern = r"\b(?:%s)\b" % "|".join(words.split())
    return re.compile(pattern + ("|" + other if other else ""))


# whitespace separates the alternatives below; "\s+" inside one is a space
OWN_CUE = _words(BUDGET_WORD.replace("|", " ") + r"""
    max(?:imum)? maks(?:imum)? limit ceiling afford mampu sanggup willing\s+to\s+(?:pay|go|spend)
    can\s+go up\s+to sampai most\s+i\s+can offer bagi nego\s+to i\s+can\s+(?:pay|do|give|go|spend)
    can\s+pay boleh\s+bayar spend range let\s+go\s+at (?:i|we)\s+(?:have|'ve\s+got)
    (?:saya|sy|kami)\s+ada below under bawah less\s+than kurang\s+dari\w* (?:not|no)\s+more\s+than
    tak\s+lebih x\s+lebih tidak\s+melebihi within dalam dlm around about approx(?:imately)? roughly
    lebih\s+kurang lbh\s+krg sekitar lingkungan looking\s+(?:at|below|under|for)""",
                 "预算|大概|大约|~")
STRONG_OWN_CUE = _words(BUDGET_WORD.replace("|", " ") + r"""
    max(?:imum)? offer bagi nego\s+to afford mampu sanggup willing\s+to\s+(?:pay|go|spend)
    most\s+i\s+can i\s+can\s+pay""", "预算")
OWN_CUE_AFTER = re.compile(r"""^\s*(?:
    and\s+below|&\s+below|and\s+under|or\s+less|or\s+below|ke\s+bawah|kebawah|ke\s+bwh
  | max(?:imum)?\b|only\b|je\b|sahaja\b|saja\b|左右|以内|以下|之间|range\b|budget\b|bajet\b
  | ok\b|can\s*\?|boleh\s*\?|is\s+my\s+(?:limit|max|budget)|i'?ll\s+take)""", re.X)
# cues that the amount is something else
NOT_OWN = _words(r"""
    price\w* harga hrg asking listed listing selling jual fees? yuran deposit booking down\s?payment
    dp instal+ment bayaran\s+bulanan loan pinjaman salary gaji income pendapatan cash\s?back rebate
    discount diskaun stamp\s+duty legal maintenance valuation quot(?:ed|e|ation) charges? cost kos
    is\s+it how\s+much berapa brp saved savings simpanan""", "价格|价钱|管理费|贷款|工资|首付")
NOT_OWN_START = re.compile(
    r"\s*(?:price|harga|fees?|deposit|booking|loan|instal+ment|down\s?payment|dp\b|is\s+it|kan\b"
    r"|for\s+\d)")
NOT_OWN_AFTER = _words(r"""
    cash\s?back per\s+(?:pax|head|person) each seorang enough cukup too\s+(?:much|high|expensive)
    mahal expensive terlalu nego for\s+(?:the\s+)?(?:booking|deposit|down\s?payment)""", "贵")
UNIT_AFTER = re.compile(r"""^\s*(?:
    sq\.?\s?f(?:ee)?t|sqft|sf\b|sq\b|square|kaki|kps\b|ft\b|feet|m2|met(?:er|re)|rooms?\b|bilik
  | beds?\b|bedrooms?|pax\b|orang\b|org\b|people|units?\b|storey|tingkat|years?\b|yrs?\b|tahun
  | thn\b|months?\b|bulan\b|bln\b|weeks?\b|minggu|days?\b|hari\b|km\b|kg\b|percent|peratus
  | pcs\b|pieces|staff|cars?\b|方尺|尺|房|个|年|人)""", re.X)


def _number(text):
    return float(text.replace(",", ""))


def _multiplier(token):
    if not token:
        return None
    token = token.lower()
    return MULTIPLIERS.get(token, 1e6)


def _cn_number(text):
    """Value of a Chinese numeral below 10,000 (一百二十 -> 120), or None."""
    total, digit = 0, None
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (1 if digit is None else digit) * unit
            digit = None
    return total + (digit or 0) or None


def _amount_value(match):
    """(value, has_money_form) of an AMOUNT match, or (None, False) for a bad range."""
    if match.group("sejuta"):
        return 1e6, True
    m2 = _multiplier(match.group("m2")) or _multiplier(match.group("m1"))
    upper = _number(match.group("n2")) * (m2 or 1)
    if match.group("n1"):
        lower = _number(match.group("n1")) * (_multiplier(match.group("m1")) or m2 or 1)
        if _number(match.group("n1")) > _number(match.group("n2")) and lower > upper:
            return None, False
    has_money = bool(m2 or match.group("cur1") or match.group("cur2") or match.group("cur3"))
    return upper, has_money


class _Message:
    """A message's text, its clause spans and the text with masked numbers."""

    def __init__(self, text):
        self.text = text
        low = text.lower()
        if len(low) != len(text):  # a few letters lower-case to two characters
            low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
        self.work = _mask_numbers(low)
        self.bounds = [0]
        for match in CLAUSE_END.finditer(text):
            self.bounds += [match.start(), match.end()]
        self.bounds.append(len(text))

    def clause(self, pos):
        """(start, end) of the clause holding ``pos``."""
        bounds = self.bounds
        for i in range(0, len(bounds), 2):
            if bounds[i] <= pos < max(bounds[i + 1], bounds[i] + 1):
                return bounds[i], bounds[i + 1]
        return 0, len(self.text)

    def phrase(self, pos):
        start, end = self.clause(pos)
        phrase = " ".join(self.text[start:end].split())
        return phrase if len(phrase) <= 90 else phrase[:87] + "..."


def _is_own_amount(msg, start, end, single_budget_word):
    """Whether the amount at [start, end) is the customer's budget."""
    c_start, c_end = msg.clause(start)
    before, after = msg.work[c_start:start], msg.work[end:c_end]
    if UNIT_AFTER.match(after) or NOT_OWN_START.match(after) or NOT_OWN_AFTER.search(after):
        return False
    not_own = [m.end() for m in NOT_OWN.finditer(before)]
    if not_own:
        # after a price, fee or loan word only an explicit budget word makes it ours
        strong = [m.end() for m in STRONG_OWN_CUE.finditer(before)]
        if not strong or strong[-1] < not_own[-1]:
            return False
    own = OWN_CUE.search(before)
    return bool(own or OWN_CUE_AFTER.match(after) or OWN_CUE.search(after) or single_budget_word)


def _budget_candidates(msg, currency):
    own_tokens = set(CURRENCY_TOKENS.get(currency, ()))
    for match in AMOUNT.finditer(msg.work):
        curs = {(match.group(g) or "").lower() for g in ("cur1", "cur2", "cur3")} - {""}
        if curs - own_tokens:
            continue  # another currency: not our amount
        value, has_money = _amount_value(match)
        if value is not None:
            yield match.start(), match.end(), value, has_money
    for match in CN_AMOUNT.finditer(msg.work):
        value = _cn_number(match.group("cn"))
        if value:
            yield match.start(), match.end(), value * 1e4, True


def read_budget(msg, currency):
    """(value, phrase) of the budget the message states, or None."""
    candidates = list(_budget_candidates(msg, currency))
    if not candidates:
        return None
    money = [c for c in candidates if c[3]]
    single = len(money) == 1 and bool(BUDGET_WORD_RE.search(msg.work))
    found = {}
    for start, end, value, has_money in candidates:
        if not has_money:
            # a bare number counts only right after an explicit budget cue
            c_start = msg.clause(start)[0]
            if value < 1000 or (1900 <= value <= 2100 and "," not in msg.work[start:end]):
                continue
            if not BARE_CUE.search(msg.work[c_start:start]):
                continue
            if UNIT_AFTER.match(msg.work[end:]):
                continue
        elif not _is_own_amount(msg, start, end, single):
            continue
        if value >= 10:
            found.setdefault(round(value, 2), start)
    if len(found) != 1:
        return None  # none, or two different budgets: unsure
    (value, start), = found.items()
    return value, msg.phrase(start)


# ---------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------
DAYS_EN = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?"
DAYS_MS = r"(?:sabtu|ahad|isnin|selasa|rabu|khamis|jumaat)"
FIXED_TIMES = [(Gated(gate, pattern, re.X), code) for gate, pattern, code in (
    ("asap|a\\.s\\.a\\.p|urgent|immediate|right away|today|tonight|tomorrow|tmr|tomolo|this |coming |"
     "segera|secepat|cepat|hari|malam|mlm|petang|ptg|pagi|esok|besok|bsk|minggu|mgu|mggu|hujung|"
     "weekend|now|sabtu|ahad|isnin|selasa|rabu|khamis|jumaat|这|本周|今|明天|尽快|马上",
     r"""\b(?:asap|a\.s\.a\.p|urgent(?:ly)?|immediate(?:ly)?|right\s+away|today|tonight|tomorrow
         |tmr|tmrw|tomolo|this\s+(?:coming\s+)?(?:week|wk|weekend|%s)|coming\s+%s|segera
         |secepat\s+mungkin|nak\s+cepat|hari\s+(?:ni|ini)|harini|(?:malam|mlm|petang|ptg|pagi)\s+(?:ni|ini)
         |esok|besok|bsk|(?:minggu|mgu|mggu)\s+(?:ni|ini)|hujung\s+minggu(?!\s+depan)
         |weekend\s+(?:ni|ini)|%s\s+(?:ni|ini)|area\s+now)\b
      | \b(?:see|view|come|go|visit|take\s+it|move\s+in)\b[\w\s]{0,15}\bnow\b
      | 这周|这个周末|本周|这个星期|今天|今晚|明天|尽快|马上""" % (DAYS_EN, DAYS_EN, DAYS_MS),
     "week"),
    ("month|bulan|bln|hujung|akhir|next|minggu|mgu|mggu|depan|下|这个月|月底",
     r"""\b(?:next\s+month|this\s+month|end\s+of\s+(?:the\s+|this\s+)?month|month\s+end
         |(?:bulan|bln)\s+(?:depan|dpn|hadapan|ni|ini)|(?:hujung|akhir)\s+bulan
         |next\s+(?:week|wk|weekend|%s)|(?:minggu|mgu|mggu)\s+depan|%s\s+depan)\b
      | 下个月|这个月|月底|下周|下星期|下个星期""" % (DAYS_EN, DAYS_MS), "month"),
    ("quarter|suku|季度", r"\b(?:this\s+quarter|suku\s+tahun\s+ini)\b|本季度|这个季度", "quarter"),
    ("year|tahun|thn|明年",
     r"\b(?:next\s+year|end\s+of\s+next\s+year|(?:tahun|thn)\s+(?:depan|dpn|hadapan))\b|明年", "later"),
)]
# "this year" and its end: depends on the month we are in
THIS_YEAR = Gated(
    "year|tahun|今年|年底", r"\bthis\s+year\b|\bend\s+of\s+(?:the\s+)?year\b|\byear\s+end\b|\b(?:hujung|akhir)\s+tahun\b"
    r"(?!\s+(?:depan|dpn))|今年|年底")
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "few": 3, "a few": 3, "couple of": 2, "a couple of": 2, "satu": 1, "dua": 2, "tiga": 3,
           "sebulan": 1, "seminggu": 1, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
N_WORD = r"\d+|an?|one|two|three|four|five|six|a\s+few|few|a\s+couple\s+of|couple\s+of|satu|dua|tiga"
UNIT = (r"(?P<unit>days?|hari|weeks?|wks?|minggu|mgu|months?|mths?|mnths?|bulan|bln|years?|yrs?"
        r"|tahun|thn)\b")
DURATION = Gated(r"\d|day|hari|week|wk|minggu|mgu|month|mth|mnth|bulan|bln|year|yr|tahun|thn"
                 "|sebulan|seminggu|月|周|星期|天|年", rf"""
    (?:\b(?:within|in|dalam|dlm|next|timeframe|timeline|another)\b:?\s*(?:the\s+)?(?:next\s+)?
       (?:about\s+|around\s+|~)?(?P<n1>{N_WORD})(?:\s*(?:-|to|or|ke)\s*(?P<n2>{N_WORD}))?\s*{UNIT}
     | \b(?P<n3>{N_WORD})(?:\s*(?:-|to|or|ke)\s*(?P<n4>{N_WORD}))?\s*
       (?P<unit2>days?|hari|weeks?|minggu|months?|bulan|years?|tahun)\s*(?:lagi|time|'s\s+time|from\s+now)
     | \b(?:dalam|dlm|within)\s+(?P<single>sebulan|seminggu)\b
     | (?P<cn>[一二两三四五六\d]+)个?(?P<cu>月|周|星期|天|年)(?:内|之内|以内))
""", re.X)
MONTH_NAME = Gated("jan|feb|mar|mac|apr|may|mei|jun|jul|aug|ogos|sep|oct|okt|nov|dec|dis|bulan", r"""
    (?:\b(?:in|by|before|early|mid|end\s+of|hujung|awal|akhir|pertengahan|bulan|on)\s+
      |\b\d{1,2}(?:st|nd|rd|th)?\s+)
    (?P<mon>jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch)?|mac|apr(?:il)?|may|mei|june?|jul(?:y|ai)?
      |aug(?:ust)?|ogos|sept?(?:ember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?|dis(?:ember)?)\b
  | \bbulan\s+(?P<num>1[0-2]|0?[1-9])\b
""", re.X)
MONTH_INDEX = {"jan": 1, "feb": 2, "mar": 3, "mac": 3, "apr": 4, "may": 5, "mei": 5, "jun": 6,
               "jul": 7, "aug": 8, "ogo": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12,
               "dis": 12}
NEXT_YEAR = re.compile(r"\bnext\s+year\b|\b(?:tahun|thn)\s+(?:depan|dpn)\b|明年")
DAY_ALONE = re.compile(r"\b(?:%s|%s)\b(?!\s+(?:depan|dpn|ni|ini))|周[一二三四五六日天]|星期[一二三四五六日天]"
                       % (DAYS_EN, DAYS_MS))
TIME_NEGATION = re.compile(r"\b(?:not|no|tak|tidak|bukan)\s+$|不$")
TIME_OFF_TOPIC = _words(
    "promo(?:tion)?s? sale valid open buka discount diskaun until ago lalu last", "优惠")


def _count(word):
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else NUMBERS.get(word, 0)


def _duration_code(amount, unit):
    unit = unit.lower()
    if unit[0] in "dh天":
        days = amount
    elif unit[0] in "wm" and unit[:2] in ("we", "wk", "mi", "mg") or unit in ("周", "星期"):
        days = amount * 7
    elif unit[0] in "mb月":
        days = amount * 30
    else:
        return "later"
    if days <= 7:
        return "week"
    if days <= 31:
        return "month"
    return "quarter" if days <= 92 else "later"


def _months_ahead_code(ahead):
    if ahead <= 1:
        return "month"
    return "quarter" if ahead <= 3 else "later"


def _durations(msg):
    for match in DURATION.finditer(msg.work):
        if match.group("single"):
            word = match.group("single").lower()
            yield match.start(), ("month" if word == "sebulan" else "week")
        elif match.group("cn"):
            count = "".join(str(NUMBERS.get(ch, ch)) for ch in match.group("cn"))
            if count.isdigit():
                yield match.start(), _duration_code(int(count), match.group("cu"))
        else:
            n_low = match.group("n1") or match.group("n3")
            n_high = match.group("n2") or match.group("n4") or n_low
            amount = max(_count(n_low), _count(n_high))
            if amount:
                yield match.start(), _duration_code(amount, match.group("unit") or match.group("unit2"))


def _month_names(msg, today):
    for match in MONTH_NAME.finditer(msg.work):
        if match.group("num"):
            month = int(match.group("num"))
        else:
            month = MONTH_INDEX.get(match.group("mon")[:3].lower())
        c_start, c_end = msg.clause(match.start())
        if NEXT_YEAR.search(msg.work[c_start:c_end]):
            yield match.start(), "later"
        elif month:
            yield match.start(), _months_ahead_code((month - today.month) % 12)


def _timeline_candidates(msg, today):
    found = []
    for pattern, code in FIXED_TIMES:
        found += [(m.start(), code) for m in pattern.finditer(msg.work)]
    found += list(_durations(msg))
    if today:  # without today, month names and "this year" are unsure
        found += [(m.start(), _months_ahead_code(12 - today.month))
                  for m in THIS_YEAR.finditer(msg.work)]
        found += list(_month_names(msg, today))
    return found


def read_timeline(msg, today=None, meeting_at=None):
    """(code, phrase) of the nearest timeline the message gives, or None.

    A day named for the visit ("can I view it this Saturday") is a timeline of
    a week, unless the customer also says when they mean to buy ("within 3
    months"): that one wins.
    """
    found = _timeline_candidates(msg, today)
    visit_clause = None
    if meeting_at is not None:
        visit_clause = msg.clause(meeting_at)
        found += [(m.start(), "week") for m in DAY_ALONE.finditer(msg.work)
                  if msg.clause(m.start()) == visit_clause]
    stated, visit_days = [], []
    for start, code in found:
        c_start, c_end = msg.clause(start)
        if TIME_NEGATION.search(msg.work[max(c_start, start - 8):start]):
            continue
        if TIME_OFF_TOPIC.search(msg.work[c_start:c_end]):
            continue
        is_visit_day = code == "week" and (c_start, c_end) == visit_clause
        (visit_days if is_visit_day else stated).append((TIMELINES.index(code), start, code))
    if not (stated or visit_days):
        return None
    _rank, start, code = min(stated or visit_days)
    return code, msg.phrase(start)


# ---------------------------------------------------------------------------
# Meeting, competitor, decision maker
# ---------------------------------------------------------------------------
ASK = (r"(?:can|could|may|able\s+to|possible\s+to|want\s+to|wanna|would\s+like\s+to|'d\s+like\s+to"
       r"|like\s+to|to|nak|nk|boleh|bole|bleh|blh|mau|mahu|go|come|let\s+me|let\s+us|let's|pls|please)")
PLACE = (r"(?:unit|units|house|home|rumah|car|room|place|property|condo|apartment|showroom"
         r"|show\s*(?:unit|house)|site|land|factory|office|space|shop|shoplot|lot|studio|actual)")
MEDIA = (r"(?:gambar|gmbr|pic|pics|picture|pictures|photo|photos|foto|video|vid|floor\s*plan|pelan"
         r"|harga|link|brochure|brosur|iklan|website|price)")
MEETING_PATTERNS = Gated(
    "view|see|visit|look|person|appoint|appt|temu|book|meet|jumpa|zoom|video|present|drive|"
    "tasting|demo|drop|come|datang|dtg|tengok|tgk|tgok|tngok|lihat|jenguk|lawat|看|预约|参观|见面|试驾",
    rf"""
    \b(?:
      viewing\b(?!\s*(?:fee|deck|gallery))
    | {ASK}\s+(?:(?:i|we|me|us|you)\s+)?(?:(?:go|come)\s+)?(?:and\s+)?
        (?:view\b|visit\b|see\s+(?:it\b|them\b|(?:(?:the|this|that|your|a|an)\s+)?(?:[\w-]+\s+){{0,2}}?{PLACE}\b))
    | site\s+visit\b
    | visit(?:ing)?\s+(?:the|your|a|this|that|it|our|unit|house|showroom|show|sales|site|office|property
                       |shop|clinic)\b
    | lawatan(?:\s+tapak)?\b|(?:me)?lawat\b
    | (?:come|go|drop\s+by)\s+(?:and\s+|to\s+)?(?:take|have)\s+a\s+look\b
    | (?:have|take)\s+a\s+look\s+at\s+(?:the|this|that|your)\s+(?:[\w-]+\s+){{0,2}}?{PLACE}
    | arrange\s+to\s+(?:have|take)\s+a\s+look\b|in\s+person\b
    | appointment\b|appt\b|temu\s?janji\b|book(?:ing)?\s+(?:a\s+)?(?:slot|session)\b
    | meet(?:ing)?\b|jumpa\b|berjumpa\b|zoom\b|google\s+meet\b|video\s+call\b
    | presentation\b|test\s?drive\b|food\s+tasting\b|demo\b(?!\s*video)|drop\s+by\b
    | come\s+over\b|come\s+to\s+(?:the\s+|your\s+)?(?:site|office|showroom)\b
    | (?:datang|dtg)\s+(?:ke\s+)?(?:ofis|office|pejabat|showroom|kedai|site|tapak)\b
    | (?:nak|nk|boleh|bole|bleh|blh|datang|dtg|pergi|gi|dapat|bila|mahu|mau|ingin|jom|untuk|utk)
        \s+(?:\w+\s+){{0,2}}?(?:tengok|tgk|tgok|tngok|lihat|jenguk)(?:-tengok|2)?\b
        (?!\s+(?:dulu\s+)?{MEDIA})
    | (?:tengok|tgk|tgok|lihat|jenguk)\s+(?:rumah|unit|bilik|kereta|tanah|tempat|dewan|dapur
        |showroom|site|tapak|kedai|ofis|pejabat)\b
    )
  | 看房|看看(?:这个|那个)?(?:房子|单位|房)|去看|看一下|预约|参观|见面|试驾
""", re.X)
MEETING_NEGATION = re.compile(
    r"\b(?:no\s+need|not|don'?t|do\s+not|tak|x|tidak|tak\s+perlu|tak\s+payah|no|never|already"
    r"|dah|sudah)\b[\w\s]{0,12}$|不用|不需要")
COMPETITOR_PATTERNS = Gated(
    "agen|ejen|dealer|showroom|vendor|contractor|kontraktor|supplier|provider|compan|consultant|"
    "broker|negotiator|syarikat|alternati|pengganti|中介|别家|代理", r"""
    \b(?:
      (?:another|other|different|previous|ex|old|former|current|existing|several)\s+(?:[\w-]+\s+)?
        (?:agents?|agency|agencies|dealers?|showrooms?|vendors?|contractors?|suppliers?|providers?
         |companies|consultants?|brokers?|negotiators?)\b
    | (?:agent|agen|ejen|kontraktor|dealer|syarikat|company|vendor)\s+lain\b
    | (?:already|currently|also|still)\s+(?:have|has|got|engaged|using|with)\s+(?:an?\s+)?
        (?:agent|agency|agen|ejen)\b
    | (?:working|worked|work|dealing|dealt|talking|talked|engaged|engaging|tried|went)\s+with\s+
        (?:an?\s+|the\s+|my\s+)?(?:[\w-]+\s+){0,2}?(?:agents?|agency|agencies)\b
    | (?<!your\s)(?<!you\s)(?:dealer|showroom|agency|contractor|vendor)\b[^.?!]{0,30}
        \b(?:quoted|offered|gave|give|bagi|charges?)\b
    | (?:compared?|comparing|banding(?:kan)?)\s+(?:with|to|dengan)\b[^.?!]{0,40}
        \b(?:showroom|dealer|agent|agency|contractor|vendor)
    | looking\s+for\s+(?:an?\s+)?alternatives?\b|cari\s+(?:alternatif|pengganti)\b
    )
  | 其他中介|别的中介|另一个中介|其它中介|别家|其他代理|别的代理
""", re.X)
COMPETITOR_NEGATION = re.compile(
    r"(?:\bfirst\s+time|\bnever|\bno\s+experience|\btak\s+pernah|\bbelum\s+pernah|\bnot)\b[\w\s]{0,12}$")
DECISION_PATTERNS = Gated(
    "decision|owner|director|founder|boss|ceo|md|proprietor|pemilik|tuan|bos|pengarah|payer|decide|"
    "sign off|consult|keputusan|putuskan|tentukan|我", r"""
    \b(?:i'?m|i\s+am|im|saya|sy)\s+(?:the\s+|a\s+)?(?:decision\s+maker|owner|director|founder|co-founder
      |boss|ceo|md|managing\s+director|proprietor|pemilik|tuan\s+punya|tuan\s+rumah|bos|pengarah
      |buyer\s+and\s+the\s+payer)\b
  | \bdecision\s+maker\s*[:=-]?\s*(?:is\s+)?(?:me|myself|saya|sy)\b
  | \bi\s+(?:make|will\s+make|'ll\s+make)\s+(?:the\s+)?(?:final\s+)?decisions?\b
  | (?<!before\s)(?<!until\s)(?<!when\s)(?<!once\s)(?<!\bif\s)\bi\s+(?:decide|will\s+decide|'ll\s+decide)\b|\bi'?ll\s+sign\s+off\b|\bno\s+need\s+to\s+consult\b
  | \b(?:saya|sy)\s+(?:sendiri\s+)?(?:yang\s+)?(?:decide|buat\s+keputusan|putuskan|tentukan)\b
  | \bkeputusan\s+(?:di\s+tangan|pada|atas)\s+(?:saya|sy)\b
  | 我是老板|我决定|我做决定|我说了算
""", re.X)


def _first_unnegated(msg, pattern, negation):
    """Position of the first match not negated in its clause, or None."""
    for match in pattern.finditer(msg.work):
        c_start = msg.clause(match.start())[0]
        if not negation.search(msg.work[c_start:match.start()]):
            return match.start()
    return None


def read_signals(text, currency="MYR", today=None):
    """The buying signals of one message: ``{kind: Signal}`` (see module doc).

    :param text: the message as the customer wrote it (plain text)
    :param currency: ISO code of the company's currency (amounts in another
        currency are ignored)
    :param today: ``datetime.date`` the message arrived, to place month names
    """
    if not text or not text.strip():
        return {}
    msg = _Message(text)
    signals = {}
    budget = read_budget(msg, currency)
    if budget:
        signals[BUDGET] = Signal(BUDGET, budget[0], budget[1])
    meeting_at = _first_unnegated(msg, MEETING_PATTERNS, MEETING_NEGATION)
    if meeting_at is not None:
        signals[MEETING] = Signal(MEETING, True, msg.phrase(meeting_at))
    timeline = read_timeline(msg, today, meeting_at)
    if timeline:
        signals[TIMELINE] = Signal(TIMELINE, timeline[0], timeline[1])
    competitor_at = _first_unnegated(msg, COMPETITOR_PATTERNS, COMPETITOR_NEGATION)
    if competitor_at is not None:
        signals[COMPETITOR] = Signal(COMPETITOR, True, msg.phrase(competitor_at))
    decision = DECISION_PATTERNS.search(msg.work)
    if decision:
        signals[DECISION_MAKER] = Signal(DECISION_MAKER, True, msg.phrase(decision.start()))
    return signals
