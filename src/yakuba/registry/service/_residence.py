"""Residence events: move in, move within the city, file a move-out, move out, head of household, support measure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from yakuba.registry._values import Address, Household, NewPerson, Person, ResidentStatus
from yakuba.registry.errors import EventRefusedError
from yakuba.registry.service._base import EventBase, EventContext

__all__ = ["HEAD", "ResidenceEvents"]

HEAD = "世帯主"


class ResidenceEvents(EventBase):
    """Changes to where people live and to their households."""

    def move_in(
        self,
        new: NewPerson,
        *,
        address: Address,
        moved_in_on: dt.date,
        previous_address: Address | None,
        household_id: int | None = None,
        relationship: str = HEAD,
    ) -> Person:
        """転入: a person comes from another city, as head of a new household or into an existing one."""
        with self._event() as ctx:
            if household_id is None:
                if relationship != HEAD:
                    raise EventRefusedError(
                        "a new household's first member is its head", ja="新しい世帯の最初の方は世帯主です"
                    )
                household_id = ctx.tx.insert_household(address=address, created_on=moved_in_on)
            else:
                view = ctx.tx.fetch_household_view(household_id)
                if not view.members:
                    raise EventRefusedError(
                        "that household has no current members", ja="その世帯には現在の世帯員がいません"
                    )
                if relationship == HEAD:
                    raise EventRefusedError("the household already has a head", ja="その世帯にはすでに世帯主がいます")
                address = view.household.address
            code, number = self._new_numbers(ctx, juminhyo_code=new.juminhyo_code, my_number=new.my_number)
            person_id = ctx.tx.insert_person(
                new,
                juminhyo_code=code,
                my_number=number,
                household_id=household_id,
                relationship=relationship,
                address_since=moved_in_on,
                resident_since=moved_in_on,
                previous_address=previous_address,
                koseki_register_id=None,
            )
            if relationship == HEAD:
                household = ctx.tx.fetch_household(household_id)
                ctx.tx.update_household(dataclasses.replace(household, head_person_id=person_id))
            self._history(ctx, "person", person_id, "moved_in", moved_in_on, {"household_id": household_id})
            return ctx.tx.fetch_person(person_id)

    def move_within(
        self, *, person_id: int, address: Address, moved_on: dt.date, whole_household: bool = True
    ) -> Person:
        """転居: move to ADDRESS in the city, with the whole household or alone (then as head of a new one)."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_resident(person, "move within the city")
            if address == person.address:
                raise EventRefusedError("the new address is the current one", ja="新しい住所が現住所と同じです")
            view = ctx.tx.fetch_household_view(person.household_id)
            if whole_household:
                movers = view.members
                for member in movers:
                    self._require_resident(member, "move within the city")
                household = dataclasses.replace(view.household, address=address)
                ctx.tx.update_household(household)
                self._history(ctx, "household", household.id, "address_changed", moved_on, {"address": address})
            else:
                if person.id == view.household.head_person_id and len(view.members) > 1:
                    raise EventRefusedError(
                        "the head cannot leave a household that stays: change the head first",
                        ja="世帯主が世帯を離れる前に世帯主変更を届け出てください",
                    )
                movers = (person,)
                new_household = ctx.tx.insert_household(address=address, created_on=moved_on)
                ctx.tx.update_household(Household(id=new_household, address=address, head_person_id=person.id))
            for member in movers:
                moved = dataclasses.replace(member, address_since=moved_on, previous_address=member.address)
                if not whole_household:
                    moved = dataclasses.replace(moved, household_id=new_household, relationship=HEAD)
                ctx.tx.update_person(moved)
                self._history(ctx, "person", member.id, "moved_within", moved_on, {"household_id": moved.household_id})
                self._move_register_address(ctx, member, address, moved_on)
                self._revoke_cards(ctx, member, "address_changed", moved_on)
            return ctx.tx.fetch_person(person_id)

    def file_move_out(self, *, person_id: int, planned_on: dt.date, destination: Address) -> Person:
        """転出届: the person will leave on PLANNED_ON; until then their household is refused at a kiosk."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_resident(person, "file a move-out")
            filed = dataclasses.replace(
                person,
                status=ResidentStatus.MOVE_OUT_FILED,
                move_out_planned_on=planned_on,
                move_out_destination=destination,
            )
            ctx.tx.update_person(filed)
            self._history(ctx, "person", person.id, "move_out_filed", self.today(), {"planned_on": planned_on})
            return filed

    def move_out(self, *, person_id: int, moved_out_on: dt.date, destination: Address | None = None) -> Person:
        """転出: the person leaves the city; their seal ends, their card certificate is revoked."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_current(person, "move out")
            destination = destination or person.move_out_destination
            if destination is None:
                raise EventRefusedError("a move-out needs a destination", ja="転出先の住所が必要です")
            gone = dataclasses.replace(
                person, status=ResidentStatus.MOVED_OUT, moved_out_on=moved_out_on, move_out_destination=destination
            )
            ctx.tx.update_person(gone)
            self._history(ctx, "person", person.id, "moved_out", moved_out_on)
            self._vacate_head(ctx, person, moved_out_on)
            self._move_register_address(ctx, person, destination, moved_out_on)
            self._deregister_seal(ctx, person, "moved_out", moved_out_on)
            self._revoke_cards(ctx, person, "moved_out", moved_out_on)
            return gone

    def change_head(
        self, *, household_id: int, new_head_id: int, relationships: Mapping[int, str], changed_on: dt.date
    ) -> None:
        """世帯主変更: NEW_HEAD_ID heads the household; RELATIONSHIPS gives every other member's new 続柄."""
        with self._event() as ctx:
            view = ctx.tx.fetch_household_view(household_id)
            ids = {m.id for m in view.members}
            if new_head_id not in ids:
                raise EventRefusedError("the new head is not a current member", ja="新しい世帯主は世帯員ではありません")
            if set(relationships) != ids - {new_head_id}:
                raise EventRefusedError(
                    "give the new relationship of every other member", ja="他の世帯員全員の続柄を指定してください"
                )
            ctx.tx.update_household(dataclasses.replace(view.household, head_person_id=new_head_id))
            for member in view.members:
                relationship = HEAD if member.id == new_head_id else relationships[member.id]
                ctx.tx.update_person(dataclasses.replace(member, relationship=relationship))
                self._history(ctx, "person", member.id, "relationship_changed", changed_on)
            self._history(ctx, "household", household_id, "head_changed", changed_on, {"head_person_id": new_head_id})

    def set_support_measure(self, *, person_id: int, on: bool) -> Person:
        """支援措置 on or off: while on, no certificate about the person is issued at a kiosk."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_current(person, "support measure")
            if person.support_measure == on:
                state = "already on" if on else "not on"
                raise EventRefusedError(f"the support measure is {state}", ja="支援措置はすでにその状態です")
            changed = dataclasses.replace(person, support_measure=on)
            ctx.tx.update_person(changed)
            self._history(ctx, "person", person.id, "support_measure_on" if on else "support_measure_off", self.today())
            return changed

    # shared by the events above and the family events ------------------------------------------
    def _vacate_head(self, ctx: EventContext, person: Person, on: dt.date) -> None:
        """A head who leaves or dies leaves the household without a head until a 世帯主変更 is filed."""
        household = ctx.tx.fetch_household(person.household_id)
        if household.head_person_id == person.id:
            ctx.tx.update_household(dataclasses.replace(household, head_person_id=None))
            self._history(ctx, "household", household.id, "head_vacated", on)

    def _move_register_address(self, ctx: EventContext, person: Person, address: Address, on: dt.date) -> None:
        """Keep the 戸籍の附票 in step when the person's register is in this city."""
        member = ctx.tx.fetch_member_of_person(person.id)
        if member is not None:
            ctx.tx.end_register_address(member_id=member.id, until=on)
            ctx.tx.insert_register_address(member_id=member.id, address=address, since=on)
            self._history(ctx, "koseki_member", member.id, "register_address_added", on)
