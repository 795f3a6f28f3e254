"""Privacy safeguards on what the dashboard publishes: small-cell suppression of patient breakdowns."""
