from . import test_routing
from . import test_tools
from . import test_concurrency
from . import test_http
from . import test_notify
