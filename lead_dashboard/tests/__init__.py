from . import test_dashboard_figures
