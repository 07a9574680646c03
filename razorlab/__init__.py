"""razorlab: working engines behind a payment-scale system design curriculum."""
