"""`serve` warns when the site's Profile_Rule sends phones to another host:port than the one it
listens on, at start-up and on /healthz (issue 12, item 6)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from spaprov.live.listen_check import misdirected, rule_targets
from tests.helpers.cli import serve
from tests.helpers.mobility import make_site
from tests.helpers.site import free_port

RULE = (
    '("$EMS" eq "mobile") ? [--uid $MUID --pwd $MPWD] http://127.0.0.1:8080/mobilephone.cfg '
    "| http://127.0.0.1:8080/default.cfg"
)


def test_the_rule_targets_are_its_literal_hosts_and_ports() -> None:
    assert rule_targets(RULE) == [("http", "127.0.0.1", 8080)]
    assert rule_targets("https://prov.example.com/a.cfg") == [("https", "prov.example.com", 443)]
    assert rule_targets("http://$SERVER/a.cfg") == []  # a macro: cannot be checked


def test_the_targets_are_where_the_phone_goes_as_spaprov_splits_urls() -> None:
    # One URL splitter (spaprov.rules.urls), the one evaluation uses: an IPv6 literal unbracketed
    # and a name in lower case, as before; a URL the phone cannot fetch (no path) names no target.
    assert rule_targets('("$EMS" eq "mobile")? http://[::1]:8080/a.cfg | HTTPS://Prov.Example.com/b.cfg') == [
        ("http", "::1", 8080),
        ("https", "prov.example.com", 443),
    ]
    assert rule_targets("http://127.0.0.1?file=/a.cfg") == []
    assert rule_targets('("$EMS" eq "mobile")? /spa$MA.cfg | tftp://127.0.0.1/a.cfg') == []  # not `serve`'s


def test_another_port_is_a_warning_naming_both() -> None:
    assert misdirected(RULE, "127.0.0.1", 8080) == []
    (warning,) = misdirected(RULE, "127.0.0.1", 8081)
    assert "127.0.0.1:8080" in warning and "127.0.0.1:8081" in warning


def test_hosts_compare_only_for_a_loopback_rule_and_a_specific_bind() -> None:
    assert misdirected(RULE, "0.0.0.0", 8080) == []  # a wildcard bind answers on loopback too
    assert misdirected(RULE, "::", 8080) == []
    assert misdirected(RULE, "localhost", 8080) == []
    assert len(misdirected(RULE, "10.0.0.5", 8080)) == 1  # loopback phones cannot reach 10.0.0.5
    other = RULE.replace("127.0.0.1", "prov.example.com")
    assert misdirected(other, "10.0.0.5", 8080) == []  # that name may well be this machine


def test_serve_on_another_port_warns_at_start_up_and_on_healthz(tmp_path: Path) -> None:
    rule_port, port = free_port(), free_port()
    site = make_site(tmp_path / "site", rule_port)
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    for served in serve("--profiles", str(site), "--state", state, port=port):
        with urllib.request.urlopen(served.url + "/healthz", timeout=10) as response:
            report = json.load(response)
        process = served.process
    (warning,) = report["warnings"]
    assert f"127.0.0.1:{rule_port}" in warning and f"127.0.0.1:{port}" in warning
    assert process.stdout is not None
    assert warning in process.stdout.read()


def test_serve_on_the_rules_port_has_no_warning(tmp_path: Path) -> None:
    port = free_port()
    site = make_site(tmp_path / "site", port)
    for served in serve("--profiles", str(site), "--state", f"sqlite:///{tmp_path / 's.db'}", port=port):
        with urllib.request.urlopen(served.url + "/healthz", timeout=10) as response:
            assert json.load(response)["warnings"] == []
