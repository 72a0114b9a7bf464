"""Everything that speaks QuickBooks Online; nothing here renders HTML.

Public API (import from the submodules; importing this package does nothing):

- ``portal.qbo.oauth``: generate_state, build_authorize_url, exchange_code, fetch_company_name,
  refresh, revoke, TokenSet.
- ``portal.qbo.tokens``: record_connection, save_tokens, get_access_token, disconnect,
  clear_tokens.
- ``portal.qbo.client``: QboClient (get, query, iter_pages, query_all, create, update, delete,
  void, batch, cdc, company_info), escape, BatchItemResult.
- ``portal.qbo.errors``: the typed errors; ``portal.qbo.crypto``: token encryption/rotation;
  ``portal.qbo.environments``: endpoints per QBO_ENVIRONMENT; ``portal.qbo.governor``: the
  per-realm throttle governor.
"""
