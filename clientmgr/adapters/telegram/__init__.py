"""Telegram: the bot's handlers, screens and runner glue.

Import the submodule you need; this package stays empty so a script or a test importing one
part does not pull in the whole bot. The local fake Bot API lives in ``clientmgr.fakes``.
"""
