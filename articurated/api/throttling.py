"""Rate limits whose cost per request is constant, whatever the traffic.

DRF's throttles keep, per client, the list of its request times in the cache and rewrite it on
every request: at 100,000/minute that is a list of up to 100,000 floats read, pickled and
written back per request, so the throttle gets slower exactly when traffic grows. These count
requests in a fixed window instead: one integer per client and window (`cache.add` when the
window opens, then `cache.incr`, atomic in Redis and under a lock in the local-memory cache).
The price is that a client may send up to twice the rate across a window boundary, which is
fine for a limit that exists to stop runaway clients, not to meter them.
"""

from rest_framework import throttling


class FixedWindowMixin:
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = int(self.timer())
        window_start = now - now % self.duration
        key = f"{self.key}:{window_start}"
        # Expires with its window (plus a second, so an increment at the edge still finds it).
        if self.cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add and incr: a new window
                self.cache.set(key, 1, self.duration + 1)
                count = 1
        self.wait_seconds = max(window_start + self.duration - now, 1)
        return count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FixedWindowMixin, throttling.ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        # DRF's scoped throttle learns its rate from the view here, not in __init__.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
