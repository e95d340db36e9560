"""Helpers shared by several test modules: plain functions, constants and types that tests
import.  Fixtures stay in conftest.py files; nothing here is collected as a test."""
