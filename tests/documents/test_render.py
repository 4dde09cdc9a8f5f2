"""Every kind and every 住民票 option combination, read back by pdftotext (poppler) and pdfium."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess

import pypdfium2 as pdfium
import pytest

from yakuba.documents import (
    DocumentKind,
    DocumentSigner,
    IssuedDocument,
    RenderEngine,
    ResidentRecordOptions,
    certified_view,
    issue_document,
    sample_request,
)
from yakuba.documents._checks import page_texts
from yakuba.documents._samples import sample_household
from yakuba.documents.errors import FieldTooLongError
from yakuba.wareki import format_wareki

from .conftest import ISSUED_AT


def pdftotext(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return "".join(done.stdout.decode("utf-8").split())


def squeezed(text: str) -> str:
    return "".join(text.split())


def texts(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "".join(page_texts(document))
    finally:
        document.close()


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_kind_reads_back_in_japanese(kind: DocumentKind, issued: dict[DocumentKind, IssuedDocument]) -> None:
    request = sample_request(kind, seed=11, issued_at=ISSUED_AT)
    text = pdftotext(issued[kind].pdf)
    fields = certified_view(request).fields
    for value in (fields["title"], fields["sentence"], fields["issued"], fields["serial"], fields["person"]):
        assert squeezed(value) in text
    assert "西東京市長" in text
    assert "緑川一郎" in text
    body = fields["body"]
    for key in ("address", "honseki", "name", "hittosha"):
        if body.get(key):
            assert squeezed(body[key]) in text, key


def test_resident_record_dates_are_in_the_era() -> None:
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=11, issued_at=ISSUED_AT)
    head = request.content.members[0]  # type: ignore[union-attr]
    text = squeezed(certified_view(request).fields["body"]["members"][0]["birth"])
    assert text == squeezed(format_wareki(head.birth_date))
    assert text.startswith(("昭和", "平成"))


def test_tax_certificate_states_its_as_of_date(issued: dict[DocumentKind, IssuedDocument]) -> None:
    text = pdftotext(issued[DocumentKind.TAX].pdf)
    assert "令和7年11月25日現在の課税資料" in text
    assert "令和7年度" in text


def test_family_register_has_the_computerised_layout(issued: dict[DocumentKind, IssuedDocument]) -> None:
    full = pdftotext(issued[DocumentKind.KOSEKI_FULL].pdf)
    for label in (
        "本籍",
        "氏名",
        "戸籍事項",
        "戸籍編製",
        "戸籍に記録されている者",
        "身分事項",
        "【生年月日】",
        "【父】",
    ):
        assert label in full
    individual = pdftotext(issued[DocumentKind.KOSEKI_INDIVIDUAL].pdf)
    assert individual.count("戸籍に記録されている者") == 1
    assert full.count("戸籍に記録されている者") > 1


OPTION_COMBINATIONS = list(itertools.product([False, True], repeat=4))


@pytest.mark.parametrize(("chosen", "honseki", "relationship", "number"), OPTION_COMBINATIONS)
def test_resident_record_options(
    chosen: bool, honseki: bool, relationship: bool, number: bool, engine: RenderEngine, signer: DocumentSigner
) -> None:
    _, members = sample_household(21)
    options = ResidentRecordOptions(
        members=(members[1].person_id,) if chosen else None,
        show_honseki=honseki,
        show_relationship=relationship,
        show_individual_number=number,
    )
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=21, issued_at=ISSUED_AT, options=options)
    text = texts(issue_document(request, engine=engine, signer=signer).pdf)
    shown = [members[1]] if chosen else list(members)
    hidden = [m for m in members if m not in shown]
    for member in shown:
        assert squeezed(member.name) in text
        assert squeezed(member.name_kana) in text
        assert (member.individual_number in text) is number
    for member in hidden:
        assert squeezed(member.name_kana) not in text, "only chosen members get a member block"
        assert member.individual_number not in text
    assert ("本籍" in text and "筆頭者" in text) is honseki
    assert ("続柄" in text) is relationship
    assert ("個人番号" in text) is number
    for member in members:
        assert member.resident_code is not None
        assert member.resident_code not in text, "the 住民票コード is never printed"
    assert "住民票コード" not in text


def test_name_too_long_is_refused_not_cut(engine: RenderEngine, signer: DocumentSigner) -> None:
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=3, issued_at=ISSUED_AT)
    content = request.content
    long_name = "ウィリアムズ　アレクサンダー　ジョナサン"
    member = dataclasses.replace(content.members[0], name=long_name)  # type: ignore[union-attr]
    changed = dataclasses.replace(content, members=(member, *content.members[1:]))  # type: ignore[union-attr,arg-type]
    with pytest.raises(FieldTooLongError, match="氏名") as caught:
        issue_document(dataclasses.replace(request, content=changed), engine=engine, signer=signer)
    assert caught.value.width > caught.value.limit
    assert long_name not in caught.value.text_ja + caught.value.text_en  # a name never goes into an error


def test_every_page_renders_with_pdftoppm(issued: dict[DocumentKind, IssuedDocument], tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = issued[DocumentKind.KOSEKI_FULL]
    source = tmp_path / "koseki.pdf"
    source.write_bytes(document.pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == document.pages > 1


def test_qpdf_finds_no_error(issued: dict[DocumentKind, IssuedDocument], tmp_path) -> None:  # type: ignore[no-untyped-def]
    for kind, document in issued.items():
        target = tmp_path / f"{kind.value}.pdf"
        target.write_bytes(document.pdf)
        done = subprocess.run(["qpdf", "--check", str(target)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "No syntax or stream encoding errors" in done.stdout


def test_sample_documents_of_every_kind_are_written(engine: RenderEngine, signer: DocumentSigner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from yakuba.documents import write_sample_documents

    files = write_sample_documents(tmp_path / "samples", issued_at=ISSUED_AT, engine=engine, signer=signer)
    names = {path.name for path in files}
    for kind in DocumentKind:
        assert f"{kind.value}.pdf" in names
        assert f"{kind.value}-1.png" in names
    assert all(path.stat().st_size > 10_000 for path in files)
