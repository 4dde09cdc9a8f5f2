"""CrlWatcher follows `pki revoke` at once and costs one stat while nothing changes."""

from __future__ import annotations

from yakuba.config import Deployment
from yakuba.pki import CrlWatcher, card_was_issued, is_revoked, revoke_card
from yakuba.pki.card import enrol_card


def test_watcher_sees_a_revocation_at_once_and_keeps_the_crl_otherwise(fresh_deployment: Deployment) -> None:
    dep = fresh_deployment
    card = enrol_card(dep, city_code=dep.cities[0].code, pin="4321", path=dep.state_dir / "w.card")
    watcher = CrlWatcher(dep=dep)
    before = watcher.current()
    assert watcher.current() is before
    assert not is_revoked(before, serial=card.serial)
    revoke_card(dep, card.serial, "keyCompromise")
    after = watcher.current()
    assert after is not before
    assert is_revoked(after, serial=card.serial)


def test_card_was_issued_knows_only_its_own_cards(fresh_deployment: Deployment) -> None:
    dep = fresh_deployment
    card = enrol_card(dep, city_code=dep.cities[0].code, pin="4321", path=dep.state_dir / "i.card")
    assert card_was_issued(dep, card.serial)
    assert not card_was_issued(dep, "0123456789ABCDEF")
