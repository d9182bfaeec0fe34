"""Use cases: orchestrate core rules over ports; no SQL, no Telegram, no HTTP."""
