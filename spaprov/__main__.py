import sys

from spaprov.cli import main

sys.exit(main())
