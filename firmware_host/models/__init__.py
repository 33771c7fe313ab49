"""Shipped model files (JSON), made by the scripts in tools/ (see each file's meta)."""
