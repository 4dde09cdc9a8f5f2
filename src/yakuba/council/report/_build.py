"""Assemble the council's report from the record, the live verdicts and the databases' own counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.council.checks import LiveFindings, key_holders, provision_register, run_checks, what_crosses
from yakuba.council.record import CouncilRecord
from yakuba.council.report._charts import encryption_map_png, issuances_png
from yakuba.council.report._figures import IssuanceStatistics, Period, issuance_statistics
from yakuba.council.report._render import Block, Section, render_html, render_pdf
from yakuba.council.store import fetch_settlement_rows
from yakuba.recorder import Recorder

__all__ = ["SECTION_TITLES", "CouncilReport", "build_report", "write_report"]

JST = dt.timezone(dt.timedelta(hours=9))
SECTION_TITLES = ("諮問と附帯意見", "暗号化の状況", "交付統計", "外部提供台帳", "記録媒体管理台帳")


@dataclass(frozen=True, slots=True, kw_only=True)
class CouncilReport:
    """Everything the report shows, already computed."""

    period: Period
    generated_at: dt.datetime
    record: CouncilRecord
    findings: LiveFindings
    statistics: IssuanceStatistics
    sections: tuple[Section, ...]


async def build_report(
    dep: Deployment, *, record: CouncilRecord, recorder: Recorder | None, period: Period, clock: Clock
) -> CouncilReport:
    """Run the checks and gather the figures of PERIOD."""
    since = dt.datetime.combine(period.first, dt.time(), JST)
    until = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(), JST)
    findings = await run_checks(dep, record=record, recorder=recorder, since=since, until=until)
    stats = issuance_statistics(dep, fetch_settlement_rows(dep, first_day=period.first, last_day=period.last))
    sections = (
        _consultations(record, findings),
        _encryption(dep, findings),
        _statistics(stats),
        _provisions(recorder, since=since, until=until),
        _media(recorder),
    )
    return CouncilReport(
        period=period, generated_at=clock.now(), record=record, findings=findings, statistics=stats, sections=sections
    )


def write_report(report: CouncilReport, out_dir: Path) -> tuple[Path, Path]:
    """Write council-report-<period>.pdf and .html into OUT_DIR; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"個人情報保護審議会 報告書（{report.period.label}）"
    title_en = f"Report to the Personal Information Protection Council ({report.period.label})"
    generated = f"作成 / generated {report.generated_at.isoformat(timespec='seconds')}"
    stem = f"council-report-{report.period.first:%Y%m}-{report.period.last:%Y%m}"
    pdf = out_dir / f"{stem}.pdf"
    page = out_dir / f"{stem}.html"
    args = {"title": title, "title_en": title_en, "generated": generated, "sections": report.sections}
    pdf.write_bytes(render_pdf(**args))  # type: ignore[arg-type]
    page.write_text(render_html(**args), encoding="utf-8")  # type: ignore[arg-type]
    return pdf, page


def _consultations(record: CouncilRecord, findings: LiveFindings) -> Section:
    blocks: list[Block] = []
    for c in record.consultations:
        blocks.append(
            Block(
                kind="para",
                ja=f"{c.number}　{c.subject.ja}（{c.department.ja}）",
                en=f"{c.number}: {c.subject.en} ({c.department.en})",
            )
        )
        for d in c.deliberations:
            blocks.append(
                Block(
                    kind="para",
                    ja=f"{d.date.isoformat()} {d.meeting.ja}"
                    f"　出席: {'、'.join(d.present)}　欠席: {'、'.join(d.absent)}",
                    en=f"{d.date.isoformat()} {d.meeting.en}; present {len(d.present)}, absent {len(d.absent)}",
                )
            )
        if c.answer is None:
            continue
        blocks.append(Block(kind="para", ja=f"答申: {c.answer.kind.label.ja}", en=f"Answer: {c.answer.kind.label.en}"))
        rows = []
        for cond in c.answer.conditions:
            for check_id in cond.checks:
                res = findings.results.get(check_id)
                verdict = f"{res.verdict.label.ja} / {res.verdict.label.en}" if res else "-"
                evidence = "; ".join(res.evidence[:6]) if res else ""
                rows.append((cond.condition_id, f"{cond.text.ja}\n{cond.text.en}", check_id, verdict, evidence))
        blocks.append(
            Block(
                kind="table",
                head=("条件 id", "附帯意見 / condition", "確認 / check", "判定 / verdict", "根拠 / evidence"),
                rows=tuple(rows),
            )
        )
        for dis in c.answer.dissent:
            blocks.append(Block(kind="para", ja=f"少数意見: {dis.text.ja}", en=f"Dissent: {dis.text.en}"))
    return Section(
        title=SECTION_TITLES[0], title_en="Consultations, conditions and live verdicts", blocks=tuple(blocks)
    )


def _encryption(dep: Deployment, findings: LiveFindings) -> Section:
    probes = findings.probes
    rows = tuple(
        (
            p.segment_id,
            f"{p.client} → {p.server}",
            p.tls_version or ("plain HTTP" if p.plain_http else (p.error or "-")),
            p.cipher or "-",
            "拒否 / refused" if p.anonymous_refused else "-" if p.anonymous_refused is None else "受理 / ACCEPTED",
            p.server_issuer or "-",
            what_crosses(p.segment_id).ja,
        )
        for p in probes
    )
    keys = tuple(
        (k.key.ja + " / " + k.key.en, k.holder.ja, k.protects.ja + " / " + k.protects.en) for k in key_holders(dep)
    )
    return Section(
        title=SECTION_TITLES[1],
        title_en="Where data is encrypted: the live encryption map",
        blocks=(
            Block(kind="image", png=encryption_map_png(probes, japanese=True)),
            Block(
                kind="table",
                head=(
                    "区間 / segment",
                    "接続 / hop",
                    "プロトコル",
                    "暗号 / cipher",
                    "証明書なし接続 / no-cert client",
                    "サーバ証明書の発行者 / issuer",
                    "通るもの / what crosses",
                ),
                rows=rows,
            ),
            Block(kind="table", head=("鍵 / key", "保有者 / holder", "用途 / protects"), rows=keys),
        ),
    )


def _statistics(stats: IssuanceStatistics) -> Section:
    months = stats.months
    kind_rows = tuple((k, *(str(stats.by_kind_month.get((k, m), 0)) for m in months)) for k in stats.kinds)
    total = stats.total or 1
    channel_names = {"store": "コンビニ / konbini", "city_hall": "庁舎端末 / city hall", "unknown": "不明 / unknown"}
    return Section(
        title=SECTION_TITLES[2],
        title_en="Issuance statistics",
        blocks=(
            Block(kind="para", ja=f"交付通数 合計 {stats.total}", en=f"Copies issued in total: {stats.total}"),
            Block(kind="image", png=issuances_png(stats, japanese=True)),
            Block(kind="table", head=("種類 / kind", *months), rows=kind_rows),
            Block(
                kind="table",
                head=("チェーン / chain", "通数 / copies"),
                rows=tuple((c, str(n)) for c, n in sorted(stats.by_chain.items())),
            ),
            Block(
                kind="table",
                head=("経路 / channel", "通数 / copies", "割合 / share"),
                rows=tuple(
                    (channel_names.get(c, c), str(n), f"{100 * n / total:.1f}%")
                    for c, n in sorted(stats.by_channel.items())
                ),
            ),
            Block(
                kind="table",
                head=("参加団体 / city", "コード / code", "通数 / copies"),
                rows=tuple((name, code, str(stats.by_city.get(code, 0))) for code, name in stats.participating_cities),
            ),
        ),
    )


def _provisions(recorder: Recorder | None, *, since: dt.datetime, until: dt.datetime) -> Section:
    title_en = "External provision register"
    if recorder is None:
        return Section(
            title=SECTION_TITLES[3],
            title_en=title_en,
            blocks=(Block(kind="para", ja="録画システムなし", en="no recorder"),),
        )
    register = provision_register(recorder, since=since, until=until)
    if not register.available:
        return Section(
            title=SECTION_TITLES[3],
            title_en=title_en,
            blocks=(Block(kind="para", ja="外部提供台帳を参照できません", en=register.reason),),
        )
    counts = Counter((str(p.requester_kind), str(p.decision), str(p.status)) for p in register.provisions)
    rows = tuple((k, d, s, str(n)) for (k, d, s), n in sorted(counts.items()))
    return Section(
        title=SECTION_TITLES[3],
        title_en=title_en,
        blocks=(
            Block(
                kind="para",
                ja=f"期間内の外部提供 {len(register.provisions)} 件",
                en=f"{len(register.provisions)} provisions in the period",
            ),
            Block(
                kind="table", head=("照会元 / requester", "決定 / decision", "状況 / status", "件数 / count"), rows=rows
            ),
        ),
    )


def _media(recorder: Recorder | None) -> Section:
    title_en = "Recording-media ledger"
    if recorder is None:
        return Section(
            title=SECTION_TITLES[4],
            title_en=title_en,
            blocks=(Block(kind="para", ja="録画システムなし", en="no recorder"),),
        )
    cards = recorder.cards()
    alerts = recorder.card_alerts()
    places = Counter(c.place.value for c in cards)
    return Section(
        title=SECTION_TITLES[4],
        title_en=title_en,
        blocks=(
            Block(
                kind="para",
                ja=f"SDカード {len(cards)} 枚、警告 {len(alerts)} 件",
                en=f"{len(cards)} SD cards, {len(alerts)} alerts",
            ),
            Block(
                kind="table",
                head=("所在 / place", "枚数 / cards"),
                rows=tuple((p, str(n)) for p, n in sorted(places.items())),
            ),
            Block(
                kind="table", head=("カード / card", "警告 / alert"), rows=tuple((a.card_id, a.problem) for a in alerts)
            ),
        ),
    )
