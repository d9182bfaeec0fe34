"""The worker's driving side: the scheduler and its jobs, and the outbox loop that keeps the
sender (``clientmgr.services.sending``) going. How a reminder travels is in the README."""
