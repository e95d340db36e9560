"""spaprov: a provisioning server for Cisco SPA5x5 phones with extension mobility."""

__version__ = "0.1.0"
