"""Residents and businesses: the address source, resident accounts (OpenID Connect or a demo
password) and their favourite visitor plates. The permit rules stay in ``permits``."""
