from . import test_lead_nurture_whatsapp
