from . import lead_reassign
from . import lead_transfer
from . import lead_routing_simulate
