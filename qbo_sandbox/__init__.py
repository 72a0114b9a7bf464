"""A standalone, QuickBooks Online compatible server (Intuit OAuth 2.0 + Accounting API v3).

Importing this package does nothing; build the server with :func:`qbo_sandbox.app.create_app`
or run it with ``python -m qbo_sandbox``. Tests use :func:`qbo_sandbox.testing.run_sandbox`.
"""
