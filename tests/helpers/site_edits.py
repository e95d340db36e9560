"""Random edits of a profile directory (hypothesis strategies) and how to make them: devices, users
and EM profiles written, broken or deleted, site.toml renamed, broken or fixed; for the tests that
compare the incremental tree and the live holder with a full load."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import strategies as st

# Small pools, so that edits collide: two devices with one host user, a host user who is also a
# mobility user, an EM profile named like a device, a MAC written in two cases, a missing profile.
MACS = ["001122334455", "00aabbccddee", "00AABBCCDDEE", "a1b2c3d4e5f6"]
HOSTS = ["conf-room-1", "desk-a", "desk-b", "alice"]
IDS = ["alice", "bob", "carol", "desk-a", "a1b2c3d4e5f6"]
PROFILES = ["alice", "bob", "carol", "a1b2c3d4e5f6", "missing"]
BAD_NAMES = ["devices/not-a-mac.toml", "users/Carol.toml", "em_profiles/notes.txt", "devices/x.toml"]
BROKEN = ["x = [", 'model = "SPA999"\nhost_user = "q"\n', "unknown = 1\n", "display_name = 5\n"]


def device_text(host: str, station: str, model: str) -> str:
    return (
        f'model = "{model}"\nstation_name = "{station}"\nhost_user = "{host}"\n'
        '[[lines]]\nnumber = 1\nuser_id = "1000"\n'
    )


def user_text(profiles: list[str], default: str | None) -> str:
    listed = ", ".join(f'"{p}"' for p in profiles)
    extra = f'default_profile = "{default}"\n' if default is not None else ""
    return f'display_name = "Someone"\nem_profiles = [{listed}]\n{extra}'


def profile_text(extension: str) -> str:
    return f'[[lines]]\nnumber = 1\nuser_id = "{extension}"\n'


devices = st.builds(
    lambda mac, host, station, model: (f"devices/{mac}.toml", device_text(host, station, model)),
    st.sampled_from(MACS),
    st.sampled_from(HOSTS),
    st.sampled_from(["Desk", "Lobby", "Bench"]),
    st.sampled_from(["SPA525G2", "SPA504G"]),
)
users = st.builds(
    lambda uid, profiles, default: (f"users/{uid}.toml", user_text(profiles, default)),
    st.sampled_from(IDS),
    st.lists(st.sampled_from(PROFILES), max_size=2),
    st.none() | st.sampled_from(PROFILES),
)
profiles = st.builds(
    lambda name, ext: (f"em_profiles/{name}.toml", profile_text(ext)),
    st.sampled_from(PROFILES[:4]),
    st.sampled_from(["2001", "2002", "bad extension!"]),
)
any_label = st.sampled_from(
    [f"devices/{m}.toml" for m in MACS]
    + [f"users/{u}.toml" for u in IDS]
    + [f"em_profiles/{p}.toml" for p in PROFILES[:4]]
    + BAD_NAMES
)
writes = devices | users | profiles | st.tuples(st.sampled_from(BAD_NAMES), st.just("x = 1\n"))
breaks = st.tuples(any_label, st.sampled_from(BROKEN))
deletes = st.tuples(any_label, st.none())
site_edits = st.tuples(st.just("site.toml"), st.sampled_from(["name", "broken", "fixed"])).map(
    lambda edit: ("site.toml", edit[1])
)
# One step: a few file edits, then the tree is told the labels (True) or scans (False); or the
# edits are only proposed (an API edit is checked before anything is written).
step = st.tuples(
    st.lists(writes | breaks | deletes | site_edits, min_size=1, max_size=3),
    st.sampled_from(["told", "scan", "proposed", "everything"]),
)


def content_of(label: str, content: str | None, site_text: str) -> str | None:
    if label == "site.toml" and content is not None:
        return {
            "name": site_text.replace("Example Corp (sample)", "Renamed"),
            "broken": site_text.replace("[resync]", "[resync]\nperiodic = -1\n", 1),
            "fixed": site_text,
        }[content]
    return content


def apply(root: Path, label: str, content: str | None) -> None:
    path = root / label
    if content is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.test.tmp")
    temporary.write_text(content)
    os.replace(temporary, path)  # as spaprov's writers and most editors do: a new inode
