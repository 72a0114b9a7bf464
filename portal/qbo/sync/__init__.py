"""The sync flows: portal -> QBO pushes and QBO -> portal pulls, one module per flow.

- ``events``: the sync log helpers every flow shares (``record``, ``Tally``, holds).
- ``customers``: push clients (``push_clients``) and ``ensure_customer`` for the invoice and
  time flows.
- ``pull``: Import Clients (``import_customers``) and the review-list decisions.

Flows take a ``QboClient`` (or build one lazily), work inside the caller's app context and
commit per chunk, so a crash loses at most one chunk of bookkeeping, never QBO state.
"""
