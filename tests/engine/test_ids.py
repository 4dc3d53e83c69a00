"""Client order ids: unique, venue-sized, reproducible under a seed, and safe across threads."""

from __future__ import annotations

import sys
import threading

import pytest

from engine import ClientOrderIdGenerator, InvalidInputError


def test_seeded_id_generators_repeat_and_unseeded_differ() -> None:
    a, b = ClientOrderIdGenerator("bt", seed=7), ClientOrderIdGenerator("bt", seed=7)
    assert [a() for _ in range(5)] == [b() for _ in range(5)]
    assert ClientOrderIdGenerator().next_id() != ClientOrderIdGenerator().next_id()
    with pytest.raises(InvalidInputError, match="prefix"):
        ClientOrderIdGenerator("far-too-long-prefix")


def _from_base62(digits: str) -> int:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = 0
    for digit in digits:
        number = number * 62 + alphabet.index(digit)
    return number


def test_id_counter_reads_back_as_consecutive_numbers_past_each_digit_boundary() -> None:
    generator = ClientOrderIdGenerator("p", seed=1)
    prefix = generator.next_id()[:-1]  # "p", the 12-character token, then the counter: 1
    numbers = [_from_base62(generator.next_id()[len(prefix):]) for _ in range(62 * 62 * 62 + 100)]
    assert numbers == list(range(2, 62 * 62 * 62 + 102))


def test_threads_sharing_an_id_generator_each_get_their_own_numbers_across_digit_boundaries() -> None:
    generator = ClientOrderIdGenerator(seed=2)
    prefix = generator.next_id()[:-1]  # the token, then the counter: 1
    per_thread = 5_000  # 4 threads x 5,000 ids cross five 3,844-id blocks of the counter's last digits
    results: list[list[str]] = []

    def draw() -> None:
        results.append([generator.next_id() for _ in range(per_thread)])

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as the interpreter allows
    try:
        threads = [threading.Thread(target=draw) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    numbers = sorted(_from_base62(i[len(prefix):]) for ids in results for i in ids)
    assert numbers == list(range(2, 4 * per_thread + 2)), "every number once, none wrong or lost"
