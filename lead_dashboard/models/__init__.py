from . import lead_dashboard
