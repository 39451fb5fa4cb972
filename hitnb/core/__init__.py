"""Core: the decorators and what they return, between keys (hashing) and bytes (store)."""
