"""open_portal package."""
