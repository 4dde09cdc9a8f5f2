"""The sample record: the two consultations of the Nishitokyo council meeting of 27 June 2016, from its minutes."""

from __future__ import annotations

import datetime as dt

from yakuba.council.record import (
    Answer,
    AnswerKind,
    Condition,
    ConditionSource,
    Consultation,
    CouncilRecord,
    Deliberation,
    Dissent,
    Text,
)

__all__ = ["MEETING_2016_06_27", "sample_record"]

MEETING_2016_06_27 = Deliberation(
    meeting=Text(
        ja="西東京市個人情報保護審議会（第2回）　田無庁舎 庁議室",
        en="Nishitokyo City Personal Information Protection Council, 2nd meeting, Tanashi office",
    ),
    date=dt.date(2016, 6, 27),
    present=("横澤委員", "横道委員", "河野委員", "茶谷委員", "海老澤委員", "濱野委員", "大川委員"),
    absent=("岡本委員",),
)


def sample_record() -> CouncilRecord:
    """The record the sample deployment loads: both consultations, their conditions and the dissent."""
    konbini = Consultation(
        number="議題1",
        date=None,  # put to the council at the previous meeting; the minutes of 27 June do not give the date
        subject=Text(
            ja="電子計算組織の結合による証明書等のコンビニエンスストアでの交付について（諮問）",
            en="Issuing certificates at convenience stores by connecting the city's computers (consultation)",
        ),
        department=Text(
            ja="市民部 市民課・市民税課", en="Citizens Department: Citizens Division, Resident Tax Division"
        ),
        systems=("issuance",),
        deliberations=(MEETING_2016_06_27,),
        answer=Answer(
            kind=AnswerKind.APPROVED_WITH_CONDITIONS,
            decided_on=dt.date(2016, 6, 27),
            conditions=(
                Condition(
                    condition_id="konbini-1",
                    source=ConditionSource.RIDER,
                    text=Text(
                        ja="職員のコンビニ交付サービスに係るシステム構成の理解の向上を図ること"
                        "（市民に分かりやすく、しっかりとした説明ができるように、暗号化がどのレベルで、"
                        "どのようにされているのかを職員が理解すること）",
                        en="Staff must understand the system's configuration, above all where and how data is "
                        "encrypted, well enough to explain it to residents.",
                    ),
                    checks=("network.mutual_tls", "network.sealed_end_to_end"),
                ),
                Condition(
                    condition_id="konbini-2",
                    source=ConditionSource.UNDERTAKING,
                    text=Text(
                        ja="転送サーバ及び証明書交付センター（中継暗号化サーバ）は証明書データを保持しない"
                        "（説明員の説明）",
                        en="The forwarding server and the issuance center relay certificate data and keep none "
                        "of it (as the city explained).",
                    ),
                    checks=("relays.no_personal_data",),
                ),
            ),
            dissent=(
                Dissent(
                    text=Text(
                        ja="コンビニ交付できる証明書の範囲については異論があり、全員一致ではない。",
                        en="Not unanimous: members disagreed on the range of certificates to be issued at "
                        "convenience stores (family-register certificates in particular).",
                    )
                ),
            ),
        ),
    )
    recorder = Consultation(
        number="議題2",
        date=dt.date(2016, 6, 27),
        subject=Text(
            ja="ごみ収集車等へのドライブレコーダーの設置について",
            en="Fitting drive recorders to the city's garbage trucks",
        ),
        department=Text(ja="みどり環境部 ごみ減量推進課", en="Green Environment Department: Waste Reduction Division"),
        systems=("recorder",),
        deliberations=(MEETING_2016_06_27,),
        answer=Answer(
            kind=AnswerKind.APPROVED_WITH_CONDITIONS,
            decided_on=dt.date(2016, 6, 27),
            conditions=(
                Condition(
                    condition_id="recorder-1",
                    source=ConditionSource.RIDER,
                    text=Text(
                        ja="映像データの外部提供を行う場合の事務処理を明確に定めること"
                        "（警察や弁護士会等へ外部提供する際の経緯を明らかにすること）",
                        en="Define the procedure for providing footage outside the city, and keep on record how "
                        "each provision (police, bar association) came about.",
                    ),
                    checks=("recorder.provisions_on_record",),
                ),
                Condition(
                    condition_id="recorder-2",
                    source=ConditionSource.RIDER,
                    text=Text(
                        ja="西東京市記録媒体に関する取扱いを定める基準に定める記録媒体管理台帳により"
                        "SDカードの管理を徹底すること（いつ、誰が、どのように使用し、どこに所在しているか）",
                        en="Keep every SD card in the recording-media ledger: when, who, how it was used and "
                        "where it is now.",
                    ),
                    checks=("recorder.media_ledger",),
                ),
                Condition(
                    condition_id="recorder-3",
                    source=ConditionSource.UNDERTAKING,
                    text=Text(
                        ja="映像データの保存期間は4時間以上1週間以内とする（説明員の説明）",
                        en="Footage is kept at least 4 hours and at most about a week (as the city explained).",
                    ),
                    checks=("recorder.retention_window",),
                ),
                Condition(
                    condition_id="recorder-4",
                    source=ConditionSource.UNDERTAKING,
                    text=Text(
                        ja="映像データは毎日確認せず、事故等が発生した際に確認する。運転手は映像を見ない（説明員の説明）",
                        en="Footage is not reviewed daily, only after an incident; drivers do not view it "
                        "(as the city explained).",
                    ),
                    checks=("recorder.views_have_purpose",),
                ),
            ),
        ),
    )
    return CouncilRecord(
        council=Text(ja="西東京市個人情報保護審議会", en="Nishitokyo City Personal Information Protection Council"),
        consultations=(konbini, recorder),
    )
