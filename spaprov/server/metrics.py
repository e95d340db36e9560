"""Prometheus metrics in the text exposition format (version 0.0.4), kept in memory.

Small enough to write here rather than depend on prometheus_client: counters with labels, one
latency histogram, and gauges read at scrape time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

Gauges = Callable[[], Iterable[tuple[str, str, float]]]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
Labels = tuple[tuple[str, str], ...]


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[Labels] = Counter()
        self.auth_failures = 0
        self.lockouts = 0
        self._latency_buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(LATENCY_BUCKETS))
        self._latency_sum: defaultdict[str, float] = defaultdict(float)
        self._latency_count: Counter[str] = Counter()
        self._gauge_sources: list[Gauges] = []
        self.outcomes: dict[str, tuple[str, Counter[str]]] = {}

    def outcome_counter(self, name: str, help_text: str) -> Callable[[str], None]:
        """A counter family `name{outcome=...}` (TFTP transfers, resync pushes), and the function
        that counts one outcome in it."""
        counts: Counter[str] = Counter()
        self.outcomes[name] = (help_text, counts)

        def count(outcome: str) -> None:
            counts[outcome] += 1

        return count

    def add_gauges(self, source: Gauges) -> None:
        """Gauges (name, help, value) read from `source` at every scrape, after the caller's."""
        self._gauge_sources.append(source)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests[(("route", route), ("status", str(status)))] += 1
        buckets = self._latency_buckets[route]
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                buckets[index] += 1
        self._latency_sum[route] += seconds
        self._latency_count[route] += 1

    def auth_event(self, event: str) -> None:
        if event == "lockout":
            self.lockouts += 1
        else:
            self.auth_failures += 1

    def exposition(self, gauges: Iterable[tuple[str, str, float]]) -> str:
        """The exposition text; `gauges` are (name, help, value) read at scrape time."""
        out: list[str] = []
        _family(
            out,
            "spaprov_requests_total",
            "counter",
            "HTTP requests by route and status",
            ((labels, value) for labels, value in sorted(self.requests.items())),
        )
        out.append("# HELP spaprov_request_duration_seconds Request latency by route")
        out.append("# TYPE spaprov_request_duration_seconds histogram")
        bucket = "spaprov_request_duration_seconds_bucket"
        for route in sorted(self._latency_count):
            for bound, count in zip(LATENCY_BUCKETS, self._latency_buckets[route], strict=True):
                out.append(f'{bucket}{{route="{route}",le="{bound}"}} {count}')
            out.append(f'{bucket}{{route="{route}",le="+Inf"}} {self._latency_count[route]}')
            out.append(
                f'spaprov_request_duration_seconds_sum{{route="{route}"}} {self._latency_sum[route]:.6f}'
            )
            out.append(
                f'spaprov_request_duration_seconds_count{{route="{route}"}} {self._latency_count[route]}'
            )
        _family(
            out,
            "spaprov_auth_failures_total",
            "counter",
            "Failed Digest authentications",
            [((), self.auth_failures)],
        )
        _family(
            out,
            "spaprov_lockouts_total",
            "counter",
            "Lockouts started by the brute-force guard",
            [((), self.lockouts)],
        )
        for family, (help_text, counts) in sorted(self.outcomes.items()):
            _family(
                out,
                family,
                "counter",
                help_text,
                (((("outcome", outcome),), value) for outcome, value in sorted(counts.items())),
            )
        for name, help_text, value in [*gauges, *(g for source in self._gauge_sources for g in source())]:
            kind = "counter" if name.endswith("_total") else "gauge"
            _family(out, name, kind, help_text, [((), value)])
        return "\n".join(out) + "\n"


def _family(
    out: list[str], name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, float]]
) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
        out.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
