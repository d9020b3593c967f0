"""Push: a crew tablet sends its queued mutations (docs/sync-protocol.md).

For each mutation, in order, in its own write transaction:

1. Lock the device row (concurrent pushes from one device queue here).
2. seq ≤ the device's last: a replay. Same mutation id → return the answer it got the first
   time, nothing is applied again. Another id → 409: the device reused a number.
3. seq > last + 1: a gap. Stop and answer 409 with the expected number. (Earlier mutations of
   the request are committed, and every 409 carries their results in `extra.results`.)
4. seq = last + 1: apply it inside a savepoint. If it can never apply (a DomainError: illegal
   transition, stale status, bad arguments, unknown name) roll the savepoint back and record
   it as rejected with the reason. Either way record the mutation and its answer and advance
   the device's number, in the same transaction: one bad mutation never blocks the queue, and
   a response lost after the commit is answered from the record on replay.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from api.auth.schemas import Principal
from api.db import current_engine, write_transaction
from api.errors import ConflictError, DomainError
from sync import mutators
from sync.devices import device_for_sync
from sync.schemas import MutationIn, MutationResult, PushRequest, PushResponse
from sync.tables import Device, Mutation


class SequenceGapError(ConflictError):
    """A mutation number was skipped; the answer names the one expected."""


async def _replay(device: dict, mutation: MutationIn) -> MutationResult:
    stored = (
        await Mutation.select()
        .where((Mutation.device == device["id"]) & (Mutation.seq == mutation.seq))
        .first()
    )
    if stored is None or stored["mutation_id"] != mutation.id:
        raise ConflictError(
            f"mutation number {mutation.seq} was already used by another mutation; "
            "numbers must not be reused",
            field="seq",
            last_mutation_seq=device["last_mutation_seq"],
        )
    result = stored["result"]
    result = json.loads(result) if isinstance(result, str) else result
    return MutationResult(**(result | {"replayed": True}))


def _storable_name(name: str) -> str:
    """The name as the record can hold it. A name this server does not know is rejected (with
    the name in full in the reason), never refused as a request: the queue must move on."""
    return name.replace("\x00", "\ufffd")[: Mutation.name.length]


async def apply_one(
    actor: Principal, device_id: str, mutation: MutationIn, received_at: datetime
) -> MutationResult:
    async with write_transaction():
        device = await device_for_sync(actor, device_id, lock=True)  # 1
        last = device["last_mutation_seq"]
        if mutation.seq <= last:  # 2
            return await _replay(device, mutation)
        if mutation.seq > last + 1:  # 3
            raise SequenceGapError(
                f"mutation {mutation.seq} arrived but {last + 1} was expected",
                field="seq",
                expected_seq=last + 1,
            )
        if await Mutation.exists().where(Mutation.mutation_id == mutation.id):
            raise ConflictError(f"mutation id {mutation.id} was already used", field="id")
        transaction = current_engine().current_transaction.get()  # 4
        savepoint = await transaction.savepoint()
        context = mutators.Context(actor=actor, received_at=received_at)
        try:
            outcome = await mutators.apply(context, mutation)
        except DomainError as error:
            await savepoint.rollback_to()
            number = mutation.args.get("work_order")
            result = MutationResult(
                seq=mutation.seq,
                id=mutation.id,
                status="rejected",
                reason=error.detail,
                work_order=number if isinstance(number, str) else None,
            )
        else:
            result = MutationResult(
                seq=mutation.seq,
                id=mutation.id,
                status="applied",
                reason=outcome.note,
                flagged=outcome.flagged,
                work_order=outcome.work_order,
            )
        await Mutation(
            device=device["id"],
            seq=mutation.seq,
            mutation_id=mutation.id,
            name=_storable_name(mutation.name),
            args=mutation.args,
            status=result.status,
            result=msgspec.to_builtins(result),
            received_at=received_at,
        ).save()
        await Device.update(
            {Device.last_mutation_seq: mutation.seq, Device.last_seen_at: received_at}
        ).where(Device.id == device["id"])
    return result


async def push(actor: Principal, request: PushRequest) -> PushResponse:
    received_at = datetime.now(UTC)
    results: list[MutationResult] = []
    for mutation in request.mutations:
        try:
            results.append(await apply_one(actor, request.device_id, mutation, received_at))
        except ConflictError as error:  # a gap or a reused number or id
            # the mutations before it are committed: say how each went
            error.extra["results"] = msgspec.to_builtins(results)
            raise
    device = await device_for_sync(actor, request.device_id, lock=False)
    return PushResponse(results=results, last_mutation_seq=device["last_mutation_seq"])
