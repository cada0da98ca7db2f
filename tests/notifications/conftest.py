"""The notification tests' servers: a real SMTP server and the Twilio and WhatsApp stand-ins."""

from tests.notifications import fake_providers
from tests.notifications import smtp_server as smtp

smtp_server = smtp.smtp_server
twilio_server = fake_providers.twilio_server
whatsapp_server = fake_providers.whatsapp_server
