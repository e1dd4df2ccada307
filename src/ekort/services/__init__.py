"""Application services: the only code that changes state.

Each action is one function with the same shape: check the rule (a domain decision that names
it), lock the row, change it, write the audit entry, all in one transaction; side effects run on
commit. Every function takes `now`; callers get it from `ekort.services.clock.now()`.
"""
