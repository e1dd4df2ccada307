"""Chunks in worker processes side by side: `ekort bulk ... --chunk N --workers W` and
`ekort jobs run --workers W`.

Producing a card is mostly Python work (the chip's key, the certificate, the rows), so one
process uses one core; W processes use W. A deadline sweep's chunk is mostly the database's
work, and one database session uses one core of the database server too. Each chunk is still
one transaction of one service (`services.cards.produce` or `send`, `deadlines.sweep_chunk`), with
everything that promises: a chunk is done or untouched, also when its worker is killed.

The workers are forked from the command's process, which first closes its database connections:
each worker opens its own on first use and never shares a socket with its parent. Each worker
also drops the key backend and card reader it inherited (`backends.reset`) and opens its own,
since a PKCS#11 session or an SQLite connection must not cross a fork.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connections

from ekort.domain.errors import Refused
from ekort.services import clock, deadlines
from ekort.services.ca import backends
from ekort.services.cards import Outcome, produce, send

MAX_WORKERS = 16  # a sanity bound for --workers: more than a machine's cores gains nothing

ACTIONS = {"produce": produce, "send": send}


@dataclass(frozen=True)
class ChunkResult:
    """A chunk's outcome in plain values, to cross the process boundary: the cards done, and
    for each refused card its rule ID (or the kind of problem) and the sentence."""

    done: list[int]
    refused: list[tuple[int, str, str]]

    @classmethod
    def of(cls, outcome: Outcome) -> ChunkResult:
        return cls(
            done=list(outcome.done),
            refused=[
                (card_id, _key(problem), str(problem))
                for card_id, problem in outcome.refused.items()
            ],
        )


def _key(problem: Exception) -> str:
    return problem.rule if isinstance(problem, Refused) else type(problem).__name__


def run_chunk(
    verb: str, actor_pk: int, card_ids: Sequence[int], at: datetime | None
) -> ChunkResult:
    """One chunk through its service, at `at` or, without it, at the time it starts."""
    actor = get_user_model().objects.get(pk=actor_pk)
    now = at or clock.now()
    return ChunkResult.of(ACTIONS[verb](actor=actor, card_ids=card_ids, now=now))


def _start_worker() -> None:
    backends.reset()
    # What the worker inherits from the command's process (Django, the models, the settings)
    # lives as long as the worker: the garbage collector need not look through it again each
    # time a chunk's own objects set it off. A sweep worker's CPU for 100,000 cards fell from
    # 1.83-2.03 s to 1.67-1.76 s (bench sweep's data, 2 workers on 2 cores).
    gc.freeze()


def run_in_workers(
    verb: str,
    actor_pk: int,
    chunks: Sequence[Sequence[int]],
    at: datetime | None,
    workers: int,
) -> Iterator[ChunkResult]:
    """The chunks' results, in the chunks' order, as they are done by `workers` processes."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        jobs = [pool.submit(run_chunk, verb, actor_pk, list(chunk), at) for chunk in chunks]
        for job in jobs:
            yield job.result()


@contextmanager
def sweeps_in_workers(workers: int) -> Iterator[deadlines.RunChunks]:
    """A `deadlines.RunChunks` that has each chunk done in one of `workers` processes, for
    `deadlines.run_all(..., run_chunks=...)` inside the `with`."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:

        def run_chunks(
            sweep: deadlines.Sweep, chunks: Sequence[Sequence[int]], now: datetime
        ) -> Iterator[int]:
            # The first submission forks the workers: this process's connection must not be
            # open then, or they would share its socket.
            connections.close_all()
            jobs: list[Future[int]] = [
                pool.submit(deadlines.sweep_chunk, sweep, list(chunk), now) for chunk in chunks
            ]
            try:
                for job in jobs:
                    yield job.result()
            finally:
                for job in jobs:
                    job.cancel()  # after a failure: the chunks not yet started stay untouched

        yield run_chunks
