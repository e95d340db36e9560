"""An SPA5x5 phone simulator for end-to-end tests and deployment checks."""

from spaprov.phone.flat_profile import ProfileFormatError, parse_flat_profile
from spaprov.phone.simulator import SpaPhone, StepReport, run_together
from spaprov.phone.transport import Fetch

__all__ = ["Fetch", "ProfileFormatError", "SpaPhone", "StepReport", "parse_flat_profile", "run_together"]
