"""Administrative writes made from the command line, audited as the API audits its own.

`spaprov user`, `admin`, `import`, `restore` and `sessions logout` change who may log in and
what phones get, like the API's writes, so each leaves an audit row: the event, what changed,
and who changed it: the operating-system account that ran the command (`by ACCOUNT@HOST
(command line)` in the detail, `local` as the client).  The row goes to the state store the
site's server uses (`--state`, `--state-file`, `$SPAPROV_STATE`, else sqlite in the profile
directory).  The write itself is done and durable first; if the store cannot take the row, the
command says so on stderr (the change stands: running it again would not undo it).
"""

from __future__ import annotations

import argparse
import os
import pwd
import socket
import sys
import time
from pathlib import Path

from spaprov.commands.state_option import state_url
from spaprov.mobility import StateStoreError, default_state_url, open_state

CLIENT = "local"


def operator() -> str:
    """`ACCOUNT@HOST` of whoever runs this process (the real account, not $USER; with the
    account sudo was run from, when there is one)."""
    try:
        account = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid without a passwd entry (a container)
        account = f"uid {os.getuid()}"
    sudo = os.environ.get("SUDO_USER")
    if sudo and sudo != account:
        account = f"{account} (sudo from {sudo})"
    return f"{account}@{socket.gethostname()}"


def attribution() -> str:
    return f"by {operator()} (command line)"


def audit_command(
    args: argparse.Namespace,
    command: str,
    event: str,
    what: str,
    *,
    user_id: str | None = None,
    device: str | None = None,
) -> bool:
    """Record one command-line write; False (and a line on stderr) when it could not be.  `args`
    carries the command's --profiles and state options (add_state_arguments)."""
    try:
        url = state_url(args)
        profiles: Path | None = args.profiles
        if url is None:
            if profiles is None or not (profiles / "site.toml").is_file():
                raise StateStoreError("no state store: name one with --state or $SPAPROV_STATE")
            url = default_state_url(profiles)
        store = open_state(url)
        try:
            with store.transaction() as tx:
                tx.audit(
                    time.time(),
                    event,
                    user_id=user_id,
                    device=device,
                    client=CLIENT,
                    detail=f"{what} {attribution()}",
                )
        finally:
            store.close()
    except (StateStoreError, OSError) as error:
        print(f"spaprov {command}: done, but not audited: {error}", file=sys.stderr)
        return False
    return True


__all__ = ["CLIENT", "attribution", "audit_command", "operator"]
