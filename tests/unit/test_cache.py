"""The byte-bounded cache of plans (executor/judging/cache.py)."""

from executor.judging.cache import SourceCache


def test_kept_sources_stay_within_the_byte_budget_and_recent_ones_stay():
    calls = []
    cache = SourceCache(lambda s: calls.append(s) or len(s), 10_000)
    for i in range(100):
        assert cache(f"{i:04d}" * 200) == 800  # 800-character sources, about 12 fit
    assert cache.bytes <= 10_000
    calls.clear()
    cache("0099" * 200)
    assert calls == []  # the most recent is still kept
    cache("0000" * 200)
    assert calls == ["0000" * 200]  # the oldest was dropped


def test_sources_too_large_to_keep_are_computed_each_time():
    calls = []
    cache = SourceCache(lambda s: calls.append(s) or 1, 10_000)
    cache("x" * 5_000)
    cache("x" * 5_000)
    assert len(calls) == 2 and cache.bytes == 0


def test_small_values_keep_sources_up_to_half_the_budget():
    # The names a 1 MiB test binds are a few bytes: parsing it again for every sample of a
    # question cost the host most of a second each time.
    calls = []
    cache = SourceCache(lambda s: calls.append(s) or 1, 10_000, small_values=True)
    cache("x" * 4_900)
    cache("x" * 4_900)
    assert len(calls) == 1 and cache.bytes > 4_900
    cache("y" * 5_000)
    cache("y" * 5_000)
    assert len(calls) == 3  # past half the budget: computed each time
