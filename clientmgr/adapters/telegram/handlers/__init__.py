"""The bot's screens, one module per area of the menu; each exposes ``register(registry)``."""
