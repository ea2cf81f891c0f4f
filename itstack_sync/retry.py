"""Retries with exponential backoff, on Transient errors only."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from itstack_sync.errors import Transient

T = TypeVar("T")


@dataclass
class Backoff:
    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delays(self):
        for n in range(self.attempts - 1):
            # full jitter: many workers retrying one app do not hit it in lockstep
            yield random.uniform(0, min(self.cap, self.base * 2 ** n))

    def call(self, fn: Callable[[], T]) -> T:
        delays = self.delays()
        while True:
            try:
                return fn()
            except Transient:
                delay = next(delays, None)
                if delay is None:
                    raise
                self.sleep(delay)
