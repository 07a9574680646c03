"""Consumer-scale scenarios: ticketing (BookMyShow), messaging (WhatsApp), timelines (Twitter)."""
