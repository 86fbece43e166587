from . import test_conversation_sla, test_lead_nurture_whatsapp
