"""The optional TFTP listener (`spaprov serve --tftp`): a factory-reset SPA fetches
`/spa$PSN.cfg` from its DHCP option 66/150 server; this answers with the bootstrap profile.

packets.py parses and builds TFTP packets (pure); server.py runs transfers on the event loop;
files.py decides which names exist and what they hold.
"""

from spaprov.tftp.files import BootstrapFiles, product_series_number
from spaprov.tftp.server import FileRefused, Limits, TftpServer

__all__ = ["BootstrapFiles", "FileRefused", "Limits", "TftpServer", "product_series_number"]
