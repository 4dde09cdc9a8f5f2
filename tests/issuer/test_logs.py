"""The issuer's logs carry ids, kinds, codes and serials of documents, never names, addresses or card serials."""

from __future__ import annotations

import contextlib
import logging

import pytest

from yakuba.errors import YakubaError

from .issuer_support import IssuerCalls, World, completion, sign


async def test_logs_hold_no_personal_data(world: World, issuer: IssuerCalls, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    people = [world.claim(world.ordinary) for _ in range(2)]
    protected = world.registry.events.set_support_measure(person_id=world.claim(world.ordinary).id, on=True)
    cards = [world.enrol(p) for p in (*people, protected)]
    secrets_of_people: list[str] = []
    for person, card in zip((*people, protected), cards, strict=True):
        secrets_of_people += [person.name.family + "\u3000" + person.name.given, person.name.given, str(person.address)]
        secrets_of_people += [person.my_number, person.juminhyo_code, card.serial, card.serial.lower()]
    ok, _key = sign(world.dep, cards[0], kind="juminhyo", options={"show_individual_number": True})
    await issuer.issue(ok)
    await issuer.issue(ok)  # the replay is logged too
    assert (await issuer.complete(completion(ok))).closed is True
    for card, kind in ((cards[1], "inkan"), (cards[2], "juminhyo-kisai")):
        submission, _ = sign(world.dep, card, kind=kind)
        with contextlib.suppress(YakubaError):
            await issuer.issue(submission)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "refused" in logged
    assert "issued" in logged
    assert "support_measure" in logged
    leaks = [s for s in secrets_of_people if s and s in logged]
    assert leaks == []
