"""ExecutorConfig: which CPU each slot is pinned to."""

import os

import pytest

from executor import ExecutorConfig

USABLE = sorted(os.sched_getaffinity(0))


def test_one_slot_per_usable_cpu_is_pinned_in_order():
    config = ExecutorConfig(slots=len(USABLE))
    assert [config.slot_cpu(i) for i in range(len(USABLE))] == USABLE


def test_a_pool_not_covering_the_machine_is_not_pinned_unless_asked():
    # Several such pools may share the machine: they must not all pile onto its first CPUs.
    config = ExecutorConfig(slots=len(USABLE) + 1)
    assert {config.slot_cpu(i) for i in range(config.slots)} == {None}


def test_explicit_cpus_are_used_round_robin():
    cpus = (USABLE[-1], USABLE[0])
    config = ExecutorConfig(slots=3, cpus=cpus)
    assert [config.slot_cpu(i) for i in range(3)] == [cpus[0], cpus[1], cpus[0]]


def test_cpus_this_process_cannot_use_are_refused():
    with pytest.raises(ValueError, match=f"cpus {max(USABLE) + 1} not usable here"):
        ExecutorConfig(cpus=(USABLE[0], max(USABLE) + 1))


@pytest.mark.parametrize("cpus", [(), (0,)])
def test_pinning_can_be_turned_off(cpus):
    config = ExecutorConfig(slots=len(USABLE), cpus=cpus, pin_slots=False)
    assert config.slot_cpu(0) is None
