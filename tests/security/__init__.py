"""Regression tests for the hardening issue: one module per finding, named after its item.

They reuse the server fixtures of tests/conftest.py (a private copy of the sample site, a real
aiohttp server on 127.0.0.1) rather than define their own.
"""
