"""desensitize package."""
