"""Entity rules: field schemas, per-entity validation and defaults (reference §8)."""
