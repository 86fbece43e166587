from . import lead_channel_report
