"""Pure mapping between portal records and QBO payloads: no I/O, no session, no app.

One module per entity so each sync flow owns its own rules: ``customers`` (clients <->
Customer, QBO name cleaning and the name variants used for duplicate checks); invoices and time
add their own modules next to it.
"""
