"""Shipped XLSForms (.xlsx) and the script that rebuilds them."""
