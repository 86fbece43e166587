from . import test_routing
from . import test_tools
from . import test_concurrency
from . import test_http
from . import test_notify
from . import test_team_performance
from . import test_team_availability
from . import test_team_views
