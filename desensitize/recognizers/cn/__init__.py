"""Recognizers of identifiers and text of the People's Republic of China."""
