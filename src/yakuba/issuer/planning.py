"""Steps 3 and 4 of an issuance: who the card belongs to here, whether they may have it, and what it prints."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from yakuba.documents import DocumentContent, DocumentKind
from yakuba.issuer import content
from yakuba.issuer.audit_trail import SubjectRef
from yakuba.issuer.eligibility import (
    KOSEKI_KINDS,
    MIN_AGE,
    ChosenOptions,
    Reason,
    Refusal,
    check_included_person,
    check_resident,
    parse_options,
    pick_positions,
)
from yakuba.issuer.errors import CardNotRegisteredError, KindNotServedError
from yakuba.issuer.person_hash import PersonHasher
from yakuba.issuer.ports import RegistryReads, RegistrySource
from yakuba.registry import (
    CardStatus,
    KosekiMember,
    Person,
    PersonNotFoundError,
    RegisterStatus,
    fiscal_year_on,
)
from yakuba.wire.messages import Basis, IssuanceRequest

__all__ = ["Applicant", "CertificatePlanner", "Prepared"]

_log = logging.getLogger("yakuba.issuer")


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """The outcome of steps 3 and 4, before the log entry: whose it is (a keyed hash) and what to print."""

    person_hash: str
    content: DocumentContent
    subject: SubjectRef
    """Whom the certificate is about, for the audit log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Applicant:
    """Who asked, once the card is mapped: a resident (person) and/or a register member (本籍地)."""

    name: str
    person: Person | None
    member: KosekiMember | None
    register_id: int | None
    person_hash: str
    subject: SubjectRef


@contextmanager
def _about(subject: SubjectRef) -> Iterator[None]:
    """A refusal raised inside names SUBJECT (unless it already names someone): the audit entry of the
    refusal then goes into that person's own history."""
    try:
        yield
    except Refusal as refusal:
        if refusal.subject is None:
            refusal.subject = subject
        raise


class CertificatePlanner:
    """Reads the live registry in one transaction per request and decides; raises Refusal with a reason code.

    Nothing here is kept between requests: every value it returns is built from that request's own reads.
    """

    def __init__(self, *, registry: RegistrySource, hasher: PersonHasher, city_allows_individual_number: bool) -> None:
        self._registry = registry
        self._hasher = hasher
        self._allow_number = city_allows_individual_number

    def prepare(
        self, request: IssuanceRequest, *, kind: DocumentKind, card_serial: str, fingerprint: str, today: dt.date
    ) -> Prepared:
        """Steps 3 and 4 for a verified card: the options (strictly), the applicant, the rules, the content;
        all registry reads in one transaction, so the certificate reflects one moment of the registry."""
        options = parse_options(kind, request.options)
        with self._registry.read() as tx:
            if request.basis is Basis.HONSEKI:
                if kind not in KOSEKI_KINDS:
                    raise Refusal(Reason.KIND_NOT_FOR_BASIS)
                applicant = self._honseki_applicant(tx, card_serial=card_serial, today=today)
            else:
                applicant = self._resident_applicant(tx, card_serial=card_serial, fingerprint=fingerprint, today=today)
            with _about(applicant.subject):
                if kind in KOSEKI_KINDS:
                    document = self._register_content(tx, kind=kind, applicant=applicant, options=options)
                else:
                    assert applicant.person is not None
                    document = self._residence_content(
                        tx, kind=kind, person=applicant.person, options=options, today=today
                    )
        return Prepared(person_hash=applicant.person_hash, content=document, subject=applicant.subject)

    def card_subjects(self, *, card_serial: str, fingerprint: str) -> tuple[SubjectRef, ...]:
        """Whom a verified card stands for in this city, for the resident's own history.

        1. 住所地: the card's active binding, with the fingerprint the registry holds (same serial, another
           certificate: refused, as for an issuance), and the person it names.
        2. 本籍地: the card's active 利用登録 and the register member it names (the same resident, when they
           live here).
        3. Neither: CardNotRegisteredError. Eligibility rules are not applied: reading one's own history is
           not an issuance, and a resident under a support measure may read theirs.
        """
        found: list[SubjectRef] = []
        with self._registry.read() as tx:
            binding = tx.fetch_card(card_serial)  # 1
            if binding is not None and binding.status is CardStatus.ACTIVE:
                if not hmac.compare_digest(binding.fingerprint, fingerprint):
                    _log.error("integrity: card binding fingerprint mismatch; history refused for this card")
                    raise Refusal(Reason.CARD_BINDING_MISMATCH).error()
                with suppress(PersonNotFoundError):
                    found.append(SubjectRef.resident(tx.fetch_person_by_card_serial(card_serial).id))
            use = tx.fetch_honseki_use(card_serial)  # 2
            if use is not None and use.status is CardStatus.ACTIVE:
                register_id = tx.fetch_register_id_of_member(use.koseki_member_id)
                member = None
                if register_id is not None:
                    register = tx.fetch_register(register_id)
                    member = next((m for m in register.members if m.id == use.koseki_member_id), None)
                if member is not None:
                    found.append(
                        SubjectRef.resident(member.person_id)
                        if member.person_id is not None
                        else SubjectRef.register_member(member.id)
                    )
        if not found:  # 3
            raise CardNotRegisteredError()
        return tuple(dict.fromkeys(found))

    def _resident_applicant(
        self, tx: RegistryReads, *, card_serial: str, fingerprint: str, today: dt.date
    ) -> Applicant:
        """住所地: the card's binding in this city, the person it names, and the applicant's own rules."""
        binding = tx.fetch_card(card_serial)
        if binding is None or binding.status is not CardStatus.ACTIVE:
            raise Refusal(Reason.CARD_NOT_REGISTERED)
        if not hmac.compare_digest(binding.fingerprint, fingerprint):
            # Same serial, another certificate: the registry and the PKI disagree. Never issue on it.
            _log.error("integrity: card binding fingerprint mismatch; issuance refused for this card")
            raise Refusal(Reason.CARD_BINDING_MISMATCH)
        try:
            person = tx.fetch_person_by_card_serial(card_serial)
        except PersonNotFoundError:
            raise Refusal(Reason.CARD_NOT_REGISTERED) from None
        subject = SubjectRef.resident(person.id)
        with _about(subject):
            check_resident(person, today=today)
        return Applicant(
            name=person.name.full,
            person=person,
            member=None,
            register_id=person.koseki_register_id,
            person_hash=self._hasher.person(person.id),
            subject=subject,
        )

    def _honseki_applicant(self, tx: RegistryReads, *, card_serial: str, today: dt.date) -> Applicant:
        """本籍地: the card's 利用登録, the register member it names (and, if they live here, their record)."""
        use = tx.fetch_honseki_use(card_serial)
        if use is None or use.status is not CardStatus.ACTIVE:
            raise Refusal(Reason.HONSEKI_NOT_REGISTERED)
        register_id = tx.fetch_register_id_of_member(use.koseki_member_id)
        if register_id is None:
            raise Refusal(Reason.HONSEKI_NOT_REGISTERED)
        register = tx.fetch_register(register_id)
        member = next((m for m in register.members if m.id == use.koseki_member_id), None)
        if member is None or member.removed_on is not None:
            raise Refusal(Reason.NOT_IN_REGISTER)
        if member.person_id is not None:
            subject = SubjectRef.resident(member.person_id)
            person = tx.fetch_person(member.person_id)
            with _about(subject):
                check_resident(person, today=today)
            person_hash = self._hasher.person(person.id)
        else:
            subject = SubjectRef.register_member(member.id)
            born = member.birth_date
            age = today.year - born.year - int((today.month, today.day) < (born.month, born.day))
            if age < MIN_AGE:
                refusal = Refusal(Reason.UNDER_AGE)
                refusal.subject = subject
                raise refusal
            person = None
            person_hash = self._hasher.register_member(member.id)
        return Applicant(
            name=member.name.full,
            person=person,
            member=member,
            register_id=register_id,
            person_hash=person_hash,
            subject=subject,
        )

    def _residence_content(
        self, tx: RegistryReads, *, kind: DocumentKind, person: Person, options: ChosenOptions, today: dt.date
    ) -> DocumentContent:
        match kind:
            case DocumentKind.RESIDENT_RECORD:
                view = tx.fetch_household_for_certificate(person.id)
                if view.has_pending_move_out:
                    raise Refusal(Reason.HOUSEHOLD_MOVE_OUT_PENDING)
                if options.self_only:
                    chosen: Sequence[Person] = tuple(m for m in view.members if m.id == person.id)
                elif options.members is not None:
                    chosen = pick_positions(view.members, options.members)
                else:
                    chosen = view.members
                for member in chosen:
                    check_included_person(member)
                if options.show_individual_number and not self._allow_number:
                    raise Refusal(Reason.INDIVIDUAL_NUMBER_NOT_ALLOWED)
                return content.resident_record(
                    view,
                    chosen=chosen,
                    requester=person,
                    show_honseki=options.show_honseki,
                    show_relationship=options.show_relationship,
                    show_individual_number=options.show_individual_number,
                    city_allows_individual_number=self._allow_number,
                )
            case DocumentKind.RESIDENT_RECORD_ITEMS:
                view = tx.fetch_household_for_certificate(person.id)
                return content.resident_record_items(person, view)
            case DocumentKind.SEAL_REGISTRATION:
                # Read live in this transaction: a seal de-registered a second ago is not certified.
                registration = tx.fetch_live_seal(person.id)
                if registration is None or not registration.is_live:
                    raise Refusal(Reason.NO_LIVE_SEAL)
                return content.seal_certificate(person, registration)
            case DocumentKind.TAX | DocumentKind.INCOME:
                fiscal_year = fiscal_year_on(today)
                if options.fiscal_year is not None and options.fiscal_year != fiscal_year:
                    raise Refusal(Reason.FISCAL_YEAR_NOT_CURRENT)
                statement = tx.fetch_tax_statement(person_id=person.id, fiscal_year=fiscal_year)
                if statement is None:
                    raise Refusal(Reason.NO_TAX_RECORD)
                if kind is DocumentKind.TAX:
                    return content.tax_certificate(person, statement)
                return content.income_certificate(person, statement)
        raise KindNotServedError(f"{kind.value} is not a residence-system certificate")  # pragma: no cover

    def _register_content(
        self, tx: RegistryReads, *, kind: DocumentKind, applicant: Applicant, options: ChosenOptions
    ) -> DocumentContent:
        """The family-register kinds: the applicant is in the register (self or same register), the register
        is current and has no filing pending, and nobody printed is under a support measure."""
        member = applicant.member
        register_id = applicant.register_id
        if member is None:
            person = applicant.person
            assert person is not None
            if person.koseki_register_id is None:
                raise Refusal(Reason.REGISTER_NOT_HERE)
            member = tx.fetch_member_of_person(person.id)
            if member is None:
                raise Refusal(Reason.NOT_IN_REGISTER)
            register_id = tx.fetch_register_id_of_member(member.id)
        if register_id is None:
            raise Refusal(Reason.NOT_IN_REGISTER)
        register = tx.fetch_register(register_id)
        if register.status is RegisterStatus.CLOSED:
            raise Refusal(Reason.REGISTER_CLOSED)
        if register.pending_filings:
            raise Refusal(Reason.REGISTER_PENDING_FILING)
        match kind:
            case DocumentKind.KOSEKI_FULL:
                members: Sequence[KosekiMember] = register.members
            case DocumentKind.KOSEKI_INDIVIDUAL:
                members = (
                    pick_positions(register.members, options.members)
                    if options.members is not None
                    else tuple(m for m in register.members if m.id == member.id)
                )
            case _:
                members = (
                    pick_positions(register.members, options.members)
                    if options.members is not None
                    else tuple(m for m in register.members if m.removed_on is None)
                )
        for printed in members:
            if printed.person_id is not None and printed.person_id != (
                applicant.person.id if applicant.person else None
            ):
                check_included_person(tx.fetch_person(printed.person_id))
        if kind is DocumentKind.FUHYO:
            history = tx.fetch_register_address_history(register.id)
            return content.fuhyo(register, members=members, history=history, requested_by=applicant.name)
        return content.koseki(register, members=members, requested_by=applicant.name)
