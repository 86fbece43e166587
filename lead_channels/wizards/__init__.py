from . import (
    lead_channel_composer,
    lead_channel_composer_media,
    lead_channel_composer_template,
    lead_channel_quick_capture,
    lead_channel_whatsapp_composer,
)
