"""Telegram: the bot's handlers and, under ``emulator``, a local fake Bot API to run them offline.

Import the submodule you need; this package stays empty so importing ``emulator`` for a test or
the offline playground does not pull in the bot (and the bot does not pull in Starlette).
"""
