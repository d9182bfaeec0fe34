"""The domain: pure rules and values, no I/O (stdlib, attrs, dateutil, phonenumbers, babel)."""
