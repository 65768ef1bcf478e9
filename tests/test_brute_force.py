"""Issue 21, item 13: password guessing. Failures count per address and account, are forgotten
over time, and parallel guesses take turns (no faster than one session guessing in a row)."""

from __future__ import annotations

import threading
import time

import pytest

from crmlens import access

STORED = access.hash_password("right", iterations=1000)


@pytest.fixture(autouse=True)
def fast_delays(monkeypatch):
    """The real delays (0.5 s doubling to 8 s) scaled down 25 times; counters start empty."""
    monkeypatch.setattr(access, "BASE_DELAY_S", 0.02)
    monkeypatch.setattr(access, "MAX_DELAY_S", 0.32)
    monkeypatch.setattr(access, "_attempts", {})


def sequential_wait(n: int) -> float:
    return sum(access.delay_s(k) for k in range(n))


def test_delays_double_up_to_the_cap():
    assert [access.delay_s(k) for k in range(7)] == [0, 0.02, 0.04, 0.08, 0.16, 0.32, 0.32]


def test_eight_parallel_sessions_guess_no_faster_than_one():
    n = 8
    spans = []

    def guess():
        ok = access.check_with_throttle("wrong", STORED, "10.0.0.9", "viewer")
        spans.append(time.perf_counter())
        assert not ok

    t0 = time.perf_counter()
    threads = [threading.Thread(target=guess) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    assert elapsed >= 0.95 * sequential_wait(n)  # 0+0.02+0.04+0.08+0.16+0.32+0.32+0.32 = 1.26 s
    assert round(access.failures("10.0.0.9", "viewer")) == min(n, access.MAX_COUNTED)  # none lost to the race
    gaps = [b - a for a, b in zip(sorted(spans), sorted(spans)[1:])]
    assert min(gaps) >= 0.018  # one after the other, each after its own wait


def test_other_addresses_and_accounts_are_not_slowed_down():
    for _ in range(6):
        access.check_with_throttle("wrong", STORED, "10.0.0.9", "admin")  # an attack on the admin account
    t0 = time.perf_counter()
    assert access.check_with_throttle("right", STORED, "10.0.0.7", "admin")  # the real admin, elsewhere
    assert access.check_with_throttle("right", STORED, "10.0.0.9", "viewer")  # a viewer at that address
    assert time.perf_counter() - t0 < 0.02
    assert access.failures("10.0.0.9", "admin") == pytest.approx(6, abs=0.1)


def test_failures_are_forgotten_over_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(access, "_clock", lambda: now[0])
    for _ in range(20):
        access.check_with_throttle("wrong", STORED, "10.0.0.9", "admin")
    assert access.failures("10.0.0.9", "admin") == access.MAX_COUNTED  # counted up to the cap only
    now[0] += access.HALF_LIFE_S
    assert access.failures("10.0.0.9", "admin") == pytest.approx(access.MAX_COUNTED / 2)
    now[0] += 4 * access.HALF_LIFE_S  # five minutes without a failure
    assert access.delay_s(access.failures("10.0.0.9", "admin")) == 0
    t0 = time.perf_counter()
    assert access.check_with_throttle("right", STORED, "10.0.0.9", "admin")
    assert time.perf_counter() - t0 < 0.02


def test_a_right_password_resets_the_count():
    for _ in range(3):
        access.check_with_throttle("wrong", STORED, "10.0.0.9", "admin")
    assert access.check_with_throttle("right", STORED, "10.0.0.9", "admin")
    assert access.failures("10.0.0.9", "admin") == 0


def test_the_real_delays_are_those_the_readme_states(monkeypatch):
    monkeypatch.undo()
    assert [access.delay_s(k) for k in range(7)] == [0, 0.5, 1, 2, 4, 8, 8]
