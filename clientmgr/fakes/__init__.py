"""Local stand-ins for the outside world: the Telegram Bot API emulator today, the fake
Mercado Pago and the simulated WhatsApp phone next. Tests and the playground use them;
adapters never import them (an import-linter contract checks it).
"""
