"""The Textual front-end; nothing in the core imports this package."""
