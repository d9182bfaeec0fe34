"""Thin entry points over the clientmgr library: CLI now; bot, worker and web as they land."""
