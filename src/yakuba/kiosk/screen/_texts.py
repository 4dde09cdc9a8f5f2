"""Every word the kiosk screen shows, in Japanese and English, and what a refusal tells the resident to do next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# The roles' own errors, loaded here so that the kiosk process knows every code the chain may answer: the wire
# client rebuilds an error from its code among the classes loaded, and an unknown code would read as a network
# failure on the screen.
from yakuba.center.errors import CityNotParticipatingError
from yakuba.errors import YakubaError
from yakuba.forwarder.errors import WrongCityError
from yakuba.issuer.errors import CardNotRegisteredError, NotPrintableError, TransactionInProgressError
from yakuba.storehq.errors import UnknownTransactionError

__all__ = ["CHAIN_ERRORS", "KIND_NAMES", "LANGUAGES", "TEXTS", "Guidance", "guidance_for", "text"]

LANGUAGES = ("ja", "en")
"""Japanese first; English by the switch on every screen."""

TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "title": ("マルチコピー機", "Multi-copy machine"),
        "lang_switch": ("English", "日本語"),
        "home_lead": ("ご希望のサービスを選んでください", "Please choose a service"),
        "admin_service": ("行政サービス", "Administrative services"),
        "admin_service_sub": (
            "住民票・印鑑登録証明書・戸籍など",
            "Residence record, seal registration, family register",
        ),
        "card_title": ("マイナンバーカードを置いてください", "Please place your My Number card"),
        "card_lead": (
            "カードリーダーにカードを置いてください。カードは暗証番号の入力後にお返しします。",
            "Place your card on the card reader. You will take it back after entering your PIN.",
        ),
        "basis_title": ("証明書の種類を選んでください", "Which city's certificate?"),
        "basis_residence": ("住所地の証明書", "Where you live (住所地)"),
        "basis_residence_sub": ("お住まいの市区町村", "The city you live in"),
        "basis_honseki": ("本籍地の証明書", "Family register (本籍地)"),
        "basis_honseki_sub": (
            "本籍のある市区町村（利用登録が必要です）",
            "The city of your family register (registration needed)",
        ),
        "tries_left": ("暗証番号の残り入力回数", "PIN tries left"),
        "kind_title": ("証明書を選んでください", "Choose the certificate"),
        "options_title": ("記載事項を選んでください", "Choose what the certificate shows"),
        "opt_show_honseki": ("本籍・筆頭者を記載する", "Show the registered domicile and its head"),
        "opt_show_relationship": ("世帯主・続柄を記載する", "Show the household head and relationships"),
        "opt_show_individual_number": ("個人番号（マイナンバー）を記載する", "Show the individual number (My Number)"),
        "copies_title": ("部数を選んでください", "How many copies?"),
        "copies_unit": ("通", "copies"),
        "pin_title": ("暗証番号（数字4桁）を入力してください", "Enter your 4-digit PIN"),
        "pin_lead": (
            "入力した数字は表示されません。3回続けて間違えるとカードがロックされます。",
            "The digits are never shown. Three wrong PINs in a row lock the card.",
        ),
        "pin_clear": ("訂正", "Clear"),
        "pin_ok": ("確定", "OK"),
        "remove_title": ("カードをお取りください", "Please take your card"),
        "remove_lead": (
            "カードをカードリーダーから取ると次に進みます。",
            "The kiosk goes on once the card is taken from the reader.",
        ),
        "working_title": ("市区町村に問い合わせています", "Asking the city"),
        "working_lead": ("しばらくお待ちください。", "Please wait a moment."),
        "fee_title": ("料金の確認", "Please confirm the fee"),
        "fee_kind": ("証明書", "Certificate"),
        "fee_pages": ("ページ数", "Pages"),
        "fee_per_copy": ("1通の料金", "Fee per copy"),
        "fee_copies": ("部数", "Copies"),
        "fee_total": ("合計", "Total"),
        "fee_note": (
            "料金は印刷できた分だけいただきます。印刷できなかった分はお返しします。",
            "You pay only for copies printed; anything not printed is returned.",
        ),
        "fee_confirm": ("確認して支払う", "Confirm and pay"),
        "pay_title": ("お金を入れてください", "Please insert coins"),
        "pay_due": ("お支払い金額", "Amount due"),
        "pay_inserted": ("投入金額", "Inserted"),
        "pay_remaining": ("残り", "Still to pay"),
        "pay_rejected": ("使用できない硬貨・紙幣をお返ししました", "A coin or note that is not accepted was returned"),
        "printing_title": ("印刷しています", "Printing"),
        "printing_lead": (
            "証明書を印刷しています。しばらくお待ちください。",
            "Your certificate is printing. Please wait.",
        ),
        "take_title": ("証明書をお取りください", "Please take your certificate"),
        "take_lead": (
            "証明書を取ったら「停止」を押してください。押すまでお知らせ音が鳴ります。",
            "Take the certificate, then press Stop. The reminder sounds until you do.",
        ),
        "take_stop": ("停止（取りました）", "Stop (taken)"),
        "take_voided": (
            "紙詰まりで無効になった部数（料金はかかりません）",
            "Copies voided by a paper jam (not charged)",
        ),
        "done_title": ("ご利用ありがとうございました", "Thank you"),
        "done_printed": ("印刷した部数", "Copies printed"),
        "change": ("おつり", "Change"),
        "coins_returned": ("返却した硬貨・紙幣", "Coins and notes returned"),
        "void_title": ("紙詰まりのため印刷できませんでした", "The printer jammed: nothing was printed"),
        "void_lead": (
            "詰まった用紙は店員が「無効」として破棄します。料金はかかりません。お金はすべてお返しします。",
            "Store staff stamp the jammed sheet VOID and destroy it. Nothing is charged; all your money is returned.",
        ),
        "refused_title": ("ご利用いただけません", "This cannot be done"),
        "next_steps": ("次にすること", "What to do next"),
        "nothing_charged": ("料金はかかっていません。", "Nothing was charged."),
        "take_card_too": ("カードをお取りください。", "Please take your card."),
        "back": ("戻る", "Back"),
        "next": ("次へ", "Next"),
        "cancel": ("やめる", "Cancel"),
        "to_start": ("最初の画面へ", "Back to the start"),
        "sim_title": ("端末のシミュレーション（機器）", "Kiosk hardware (simulation)"),
        "sim_reader": ("カードリーダー", "Card reader"),
        "sim_reader_empty": ("カード置き場にカードがありません", "No card in the card slot folder"),
        "sim_card_in": ("カードが置かれています", "A card is on the reader"),
        "sim_remove": ("カードを取る", "Take the card"),
        "sim_coins": ("硬貨・紙幣投入口", "Coin and note slot"),
        "sim_printer": ("プリンター", "Printer"),
        "sim_jam": ("紙詰まりスイッチ", "Paper-jam switch"),
        "sim_jam_on": ("オン（印刷すると詰まる）", "On (printing jams)"),
        "sim_jam_off": ("オフ", "Off"),
    }
)


def text(key: str, lang: str) -> str:
    """KEY in LANG ("ja" or "en"); a missing key is a programming error (KeyError)."""
    ja, en = TEXTS[key]
    return en if lang == "en" else ja


KIND_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "juminhyo": ("住民票の写し", "Residence record"),
        "juminhyo-kisai": ("住民票記載事項証明書", "Certificate of residence record items"),
        "inkan": ("印鑑登録証明書", "Seal registration certificate"),
        "kazei": ("課税（非課税）証明書", "Tax certificate"),
        "shotoku": ("所得証明書", "Income certificate"),
        "koseki-zenbu": ("戸籍全部事項証明書", "Family register (full)"),
        "koseki-kojin": ("戸籍個人事項証明書", "Family register (individual)"),
        "fuhyo": ("戸籍の附票の写し", "Register address history"),
    }
)
"""The certificates on the menu, in the order shown; 本籍地 requests offer only the family-register ones."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Guidance:
    """What a refusal screen says: a title and the next step, in both languages."""

    title_ja: str
    title_en: str
    next_ja: str
    next_en: str


_COUNTER_JA = "お住まいの市区町村の窓口にお越しください。"
_COUNTER_EN = "Please go to your city office counter."

_GUIDANCE: Mapping[str, Guidance] = MappingProxyType(
    {
        "card_locked": Guidance(
            title_ja="カードがロックされています",
            title_en="The card is locked",
            next_ja="暗証番号のロックは市区町村の窓口でのみ解除できます。カードをお持ちのうえ窓口にお越しください。",
            next_en="Only your city office counter can unlock the PIN. Please bring the card there.",
        ),
        "verification_failed": Guidance(
            title_ja="カードの電子証明書が使えません",
            title_en="The card's certificate cannot be used",
            next_ja="電子証明書が失効または期限切れです。市区町村の窓口で更新の手続きをしてください。",
            next_en="Its certificate is revoked or expired. Please renew it at your city office counter.",
        ),
        "card_error": Guidance(
            title_ja="カードを読み取れません",
            title_en="The card cannot be read",
            next_ja=_COUNTER_JA,
            next_en=_COUNTER_EN,
        ),
        "authentication_failed": Guidance(
            title_ja="カードで本人確認ができません",
            title_en="The card could not authenticate you",
            next_ja=_COUNTER_JA,
            next_en=_COUNTER_EN,
        ),
        "not_eligible": Guidance(
            title_ja="この証明書はここでは発行できません",
            title_en="This certificate cannot be issued here",
            next_ja="市区町村の窓口で請求してください。",
            next_en="Please ask for it at the city office counter.",
        ),
        "service_closed": Guidance(
            title_ja="ただいまご利用いただけません",
            title_en="Not available now",
            next_ja="サービス提供時間内にもう一度お越しいただくか、市区町村の窓口をご利用ください。",
            next_en="Please come back during service hours, or use the city office counter.",
        ),
        "not_found": Guidance(
            title_ja="この証明書は取り扱っていません",
            title_en="This certificate is not offered here",
            next_ja="市区町村の窓口をご利用ください。",
            next_en="Please use the city office counter.",
        ),
        "upstream_error": Guidance(
            title_ja="通信できませんでした",
            title_en="The network is not answering",
            next_ja="しばらくしてからもう一度お試しください。続く場合は店員にお知らせください。",
            next_en="Please try again in a while. If it keeps happening, tell the store staff.",
        ),
        "invalid_input": Guidance(
            title_ja="選択内容ではお受けできません",
            title_en="The choice cannot be accepted",
            next_ja="最初からやり直して、別の選択をしてください。",
            next_en="Please start again and choose differently.",
        ),
        "document_refused": Guidance(
            title_ja="証明書を確認できませんでした",
            title_en="The certificate could not be verified",
            next_ja="市区町村に通知されました。時間をおいて、または窓口でご請求ください。",
            next_en="The city has been alerted. Please try later or at the city office counter.",
        ),
        "kiosk_timeout": Guidance(
            title_ja="時間切れです",
            title_en="Timed out",
            next_ja="最初からやり直してください。",
            next_en="Please start again.",
        ),
        "transaction_conflict": Guidance(
            title_ja="取引を続けられません",
            title_en="The transaction cannot go on",
            next_ja="最初からやり直してください。",
            next_en="Please start again.",
        ),
        CardNotRegisteredError.code: Guidance(
            title_ja="このカードはこの市区町村で使えません",
            title_en="This card cannot be used for this city",
            next_ja="本籍地の証明書には、本籍地の市区町村での利用登録が必要です。市区町村の窓口にお問い合わせください。",
            next_en="A certificate from your 本籍地 needs a one-time registration with that city. Please ask there.",
        ),
        NotPrintableError.code: Guidance(
            title_ja="この証明書はここでは印刷できません",
            title_en="This certificate cannot be printed here",
            next_ja="市区町村の窓口で請求してください。",
            next_en="Please ask for it at the city office counter.",
        ),
        TransactionInProgressError.code: Guidance(
            title_ja="取引を続けられません",
            title_en="The transaction cannot go on",
            next_ja="しばらくしてから最初からやり直してください。",
            next_en="Please wait a moment and start again.",
        ),
        WrongCityError.code: Guidance(
            title_ja="選んだ市区町村では発行できません",
            title_en="The chosen city cannot issue this",
            next_ja="最初からやり直して、住所地・本籍地を選び直してください。",
            next_en="Please start again and choose the right city.",
        ),
        "cancelled": Guidance(
            title_ja="取引を中止しました",
            title_en="The transaction was cancelled",
            next_ja="もう一度ご利用の場合は最初の画面からどうぞ。",
            next_en="To try again, start from the first screen.",
        ),
        "internal_error": Guidance(
            title_ja="ただいまご利用いただけません",
            title_en="Not available now",
            next_ja="店員にお知らせください。",
            next_en="Please tell the store staff.",
        ),
    }
)


CHAIN_ERRORS: tuple[type[YakubaError], ...] = (CityNotParticipatingError, UnknownTransactionError)
"""Further role errors whose codes map back in the kiosk process (their guidance is their parent's)."""


def guidance_for(error: YakubaError | str) -> Guidance:
    """The guidance for ERROR's code, or the nearest parent class's in the error tree; a code string for the
    screen's own outcomes ("cancelled")."""
    if isinstance(error, str):
        return _GUIDANCE.get(error, _GUIDANCE["internal_error"])
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in _GUIDANCE:
            return _GUIDANCE[code]
    return _GUIDANCE["internal_error"]
