from . import (
    crm_lead,
    lead_channel,
    lead_channel_contact_key,
    lead_channel_capture,
    lead_channel_capture_batch,
    lead_channel_event,
    lead_channel_event_lanes,
    lead_channel_field_map,
    mail_message,
    res_company,
    res_config_settings,
)
