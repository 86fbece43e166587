from . import test_dashboard_figures
from . import test_dashboard_tour
from . import test_demo_data
from . import test_tours
