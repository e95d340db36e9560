"""Prometheus metrics through prometheus_client, added up over every worker of `serve --workers`.

One process: the metrics live in memory, in a registry of their own (several apps may share a
test process).  Under `serve --workers N` the parent sets PROMETHEUS_MULTIPROC_DIR to a
private directory before it starts the workers: every worker's values are then kept in files
there (prometheus_client's multiprocess mode), and whichever worker answers a scrape adds up
all of them, so 20 requests spread over two workers show as 20 on every scrape.

Counters and the latency histogram are counted where the event happens: by prometheus_client
under --workers (into the shared files, so every scrape is exact), and in plain integers by a
single process (a few times cheaper per request; prometheus_client still writes the exposition).
Values a component keeps for itself (render cache hits, reloads, the audit queue, the state
store's health) are copied into prometheus_client at every scrape and once a second (`publish`),
so the other workers' part of a scrape is at most a second old; counters add up, an `_up` gauge
is the lowest of the live workers (0 when any worker cannot reach its store), other gauges add up.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

Gauges = Callable[[], Iterable[tuple[str, str, float]]]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name for it
CONTENT_TYPE = "text/plain"  # version 0.0.4 of the text format, as before

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series: they were never exposed, and change nothing


class Metrics:
    def __init__(self) -> None:
        self._shared_dir = os.environ.get(MULTIPROCESS_ENV) or None
        self._gauge_sources: list[Gauges] = []
        self._copies: dict[str, Counter | Gauge] = {}
        self._copied: dict[str, float] = {}
        self._counts: _SharedCounts | _LocalCounts
        if self._shared_dir is not None:  # the values go to the shared files; a scrape reads all
            self._registry = None
            self._counts = _SharedCounts()
        else:
            self._registry = CollectorRegistry(auto_describe=False)
            self._counts = _LocalCounts()
            self._registry.register(self._counts)
        # The hot path calls these directly (no indirection through this object).
        self.observe_request: Callable[[str, int, float], None] = self._counts.observe_request
        self.auth_event: Callable[[str], None] = self._counts.auth_event

    @property
    def shared(self) -> bool:
        """Whether the workers of `serve --workers` add up their values (multiprocess mode)."""
        return self._shared_dir is not None

    @property
    def lockouts(self) -> int:
        """Lockouts this process started."""
        return self._counts.lockouts

    @property
    def auth_failures(self) -> int:
        """Failed Digest authentications this process saw."""
        return self._counts.auth_failures

    def outcome_counter(self, name: str, help_text: str) -> Callable[[str], None]:
        """A counter family `name{outcome=...}` (TFTP transfers, resync pushes), and the function
        that counts one outcome in it (added up over the workers like the request counters)."""
        if isinstance(self._counts, _SharedCounts):
            counter = Counter(name, help_text, ["outcome"], registry=None)
            children: dict[str, Counter] = {}

            def count_shared(outcome: str) -> None:
                child = children.get(outcome)
                if child is None:
                    child = children[outcome] = counter.labels(outcome)
                child.inc()

            return count_shared
        counts: Tally[str] = Tally()
        self._counts.outcomes[name] = (help_text, counts)

        def count(outcome: str) -> None:
            counts[outcome] += 1

        return count

    def add_gauges(self, source: Gauges) -> None:
        """Values (name, help, value) this process keeps, read at every scrape and publish():
        a name ending in _total is a counter (it only grows)."""
        self._gauge_sources.append(source)

    def publish(self) -> None:
        """Copy the values of the gauge sources into prometheus_client (for the other workers'
        scrapes; a single process does it when scraped)."""
        for name, help_text, value in (g for source in self._gauge_sources for g in source()):
            metric = self._copies.get(name)
            if metric is None:
                metric = self._copies[name] = _copy_of(name, help_text, self._registry)
            if isinstance(metric, Counter):
                grown = value - self._copied.get(name, 0.0)
                if grown > 0:
                    metric.inc(grown)
                    self._copied[name] = value
            else:
                metric.set(value)

    def exposition(self, gauges: Iterable[tuple[str, str, float]] = ()) -> bytes:
        """The exposition text; `gauges` (name, help, value) are the scraping worker's view of
        something all workers share (the state store's session count), not added up."""
        self.publish()
        registry = CollectorRegistry(auto_describe=False)
        if self._shared_dir is not None:
            MultiProcessCollector(registry, self._shared_dir)  # type: ignore[no-untyped-call]
        else:
            assert self._registry is not None
            registry.register(_Combined(self._registry))
        registry.register(_Shared(list(gauges)))
        return generate_latest(registry)


class _SharedCounts:
    """Under --workers: prometheus_client's metrics, kept in the shared files."""

    def __init__(self) -> None:
        self._requests = Counter(
            "spaprov_requests", "HTTP requests by route and status", ["route", "status"], registry=None
        )
        self._latency = Histogram(
            "spaprov_request_duration_seconds",
            "Request latency by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self._auth_failures = Counter("spaprov_auth_failures", "Failed Digest authentications", registry=None)
        self._lockouts = Counter(
            "spaprov_lockouts", "Lockouts started by the brute-force guard", registry=None
        )
        self.lockouts = self.auth_failures = 0  # this process's, for its own checks
        # Children by label values: labels() takes a lock and builds a key on every call.
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        counter = self._request_children.get((route, status))
        if counter is None:
            counter = self._request_children[route, status] = self._requests.labels(route, str(status))
        counter.inc()
        latency = self._latency_children.get(route)
        if latency is None:
            latency = self._latency_children[route] = self._latency.labels(route)
        latency.observe(seconds)

    def auth_event(self, event: str) -> None:
        if event == "lockout":
            self.lockouts += 1
            self._lockouts.inc()
        else:
            self.auth_failures += 1
            self._auth_failures.inc()


class _LocalCounts:
    """One process's request counts in plain integers, written out by prometheus_client."""

    def __init__(self) -> None:
        self.requests: Tally[tuple[str, int]] = Tally()
        # Per route: how many fell in each bucket (not cumulative: one increment per request).
        self.buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * (len(LATENCY_BUCKETS) + 1))
        self.sums: defaultdict[str, float] = defaultdict(float)
        self.auth_failures = 0
        self.lockouts = 0
        self.outcomes: dict[str, tuple[str, Tally[str]]] = {}  # Metrics.outcome_counter's

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests[route, status] += 1
        self.buckets[route][bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sums[route] += seconds

    def auth_event(self, event: str) -> None:
        if event == "lockout":
            self.lockouts += 1
        else:
            self.auth_failures += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "spaprov_requests", "HTTP requests by route and status", labels=["route", "status"]
        )
        for (route, status), count in sorted(self.requests.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "spaprov_request_duration_seconds", "Request latency by route", labels=["route"]
        )
        bounds = [*map(str, LATENCY_BUCKETS), "+Inf"]
        for route in sorted(self.buckets):
            total, cumulative = 0, []
            for bound, count in zip(bounds, self.buckets[route], strict=True):
                total += count
                cumulative.append((bound, float(total)))
            latency.add_metric([route], cumulative, self.sums[route])
        yield latency
        yield CounterMetricFamily(
            "spaprov_auth_failures", "Failed Digest authentications", self.auth_failures
        )
        yield CounterMetricFamily(
            "spaprov_lockouts", "Lockouts started by the brute-force guard", self.lockouts
        )
        for name, (help_text, counts) in sorted(self.outcomes.items()):
            family = CounterMetricFamily(name, help_text, labels=["outcome"])
            for outcome, value in sorted(counts.items()):
                family.add_metric([outcome], value)
            yield family


def _copy_of(name: str, help_text: str, registry: CollectorRegistry | None) -> Counter | Gauge:
    if name.endswith("_total"):
        return Counter(name, help_text, registry=registry)
    # Health (1 up, 0 down): the site is up when every live worker is; levels (a queue): summed.
    mode = "livemin" if name.endswith("_up") else "livesum"
    return Gauge(name, help_text, registry=registry, multiprocess_mode=mode)  # type: ignore[arg-type]


class _Combined:
    """One process's own registry inside the scrape's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


class _Shared:
    def __init__(self, gauges: list[tuple[str, str, float]]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for name, help_text, value in self._gauges:
            yield GaugeMetricFamily(name, help_text, value=value)
