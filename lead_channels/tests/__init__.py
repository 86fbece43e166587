from . import (
    test_access,
    test_config,
    test_dedup,
    test_email_channel,
    test_form,
    test_inbox_chunk,
    test_inbox_order,
    test_lead_ads,
    test_meta_webhook,
    test_quick_capture_report,
    test_whatsapp_reply,
)
