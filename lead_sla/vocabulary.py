"""lead_sla's selections and status groups, declared once and imported by
its models and report (the tier comes from ``lead_scoring.vocabulary``)."""

SLA_STATUS = [
    ("none", "No Clock"),
    ("running", "Running"),
    ("warning", "Warning"),
    ("breached", "Breached"),
    ("met", "Met"),
    ("late", "Answered late"),
]
# clocks the sweep still watches
OPEN_CLOCK = ("running", "warning")
# clocks waiting for the first response
NO_RESPONSE_YET = ("running", "warning", "breached")
# clocks whose owner got a "First response due" warning activity
WARNED = ("warning", "breached")
# clocks stopped by a first response (on time or not)
ANSWERED = ("met", "late")

FIRST_RESPONSE_KINDS = [
    ("stage", "Stage moved"),
    ("message", "Message to the customer"),
    ("activity", "Call or meeting done"),
    ("contacted", "Marked contacted"),
]
