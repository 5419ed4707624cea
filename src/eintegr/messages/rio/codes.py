"""РИО nomenclatures as enumerations: the codes a document carries, with their meaning.

Every member *is* its code (``ApplicationType.INITIAL == "0006-000121"``) and knows its
label in Bulgarian and English (:meth:`label`). The codes are the enumerations of the
nomenclature schemas (``http://ereg.egov.bg/nomenclature/0007-…``); the labels are the
register's names of the codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "ApplicationType",
    "AuthorQualityType",
    "DiscrepancyType",
    "ProviderType",
    "ReceiptMethod",
    "ServiceTermType",
    "TransportType",
]


class _Coded(StrEnum):
    """A nomenclature code with labels."""

    def label(self, lang: str = "bg") -> str:
        """The code's name in ``"bg"`` (default) or ``"en"``."""
        bg, en = _LABELS[self]
        return en if lang == "en" else bg


class ProviderType(_Coded):
    """Kinds of providers of electronic administrative services (nomenclature 0007-000003)."""

    ADMINISTRATIVE_BODY = "0006-000031"
    PUBLIC_FUNCTIONS = "0006-000032"
    PUBLIC_SERVICES = "0006-000033"


class ApplicationType(_Coded):
    """Whether an application is the first one or a follow-up (nomenclature 0007-000015)."""

    INITIAL = "0006-000121"
    CHANGE = "0006-000122"
    REMOVE_IRREGULARITIES = "0006-000123"
    WITHDRAWAL = "0006-000124"


class ServiceTermType(_Coded):
    """The term of a service: ordinary, fast, express (nomenclature 0007-000014)."""

    ORDINARY = "0006-000083"
    FAST = "0006-000084"
    EXPRESS = "0006-000085"


class ReceiptMethod(_Coded):
    """How the applicant receives the result (nomenclature 0007-000013)."""

    ELECTRONIC = "0006-000076"
    COUNTER = "0006-000077"
    MUNICIPAL_COUNTER = "0006-000078"
    POST_TO_CORRESPONDENCE_ADDRESS = "0006-000079"
    POST_TO_OTHER_ADDRESS = "0006-000080"
    POST_OFFICE_BOX = "0006-000081"
    COUNTER_OF_REQUESTED_ADMINISTRATION = "R-6001"


class TransportType(_Coded):
    """How an electronic document travelled (nomenclature 0007-000001)."""

    WEB = "0006-000001"
    EMAIL = "0006-000002"
    PHYSICAL_MEDIUM = "0006-000003"
    EXCHANGE = "0006-000004"


class DiscrepancyType(_Coded):
    """Why the receipt of an application is not acknowledged (nomenclature 0007-000002)."""

    NOT_IN_FORMAT = "0006-000005"
    TOO_LARGE = "0006-000006"
    ATTACHMENTS_NOT_IN_FORMAT = "0006-000007"
    MALWARE = "0006-000008"
    NO_IDENTIFIER = "0006-000009"
    NO_EMAIL = "0006-000010"
    MEDIUM_UNREADABLE = "0006-000011"


class AuthorQualityType(_Coded):
    """The capacity in which an author acts for the holder (nomenclature R-1050)."""

    PERSONAL = "R-1001"
    PROXY = "R-1002"
    LEGAL_REPRESENTATIVE = "R-1003"
    OFFICIAL = "R-1004"


_LABELS: Final[dict[_Coded, tuple[str, str]]] = {
    ProviderType.ADMINISTRATIVE_BODY: ("Административен орган", "Administrative body"),
    ProviderType.PUBLIC_FUNCTIONS: (
        "Лице, осъществяващо публични функции",
        "Person performing public functions",
    ),
    ProviderType.PUBLIC_SERVICES: (
        "Организация, предоставяща обществени услуги",
        "Organisation providing public services",
    ),
    ApplicationType.INITIAL: (
        "Първоначално заявление за предоставяне на електронна административна услуга",
        "Initial application for an electronic administrative service",
    ),
    ApplicationType.CHANGE: (
        "Заявление за промяна или допълване на данни в първоначално подадено заявление",
        "Application changing or supplementing the data of an initial application",
    ),
    ApplicationType.REMOVE_IRREGULARITIES: (
        "Заявление за отстраняване на нередовности или предоставяне на информация",
        "Application removing irregularities or providing information",
    ),
    ApplicationType.WITHDRAWAL: (
        "Заявление за отказ от заявена услуга",
        "Application withdrawing a requested service",
    ),
    ServiceTermType.ORDINARY: ("Обикновена", "Ordinary"),
    ServiceTermType.FAST: ("Бърза", "Fast"),
    ServiceTermType.EXPRESS: ("Експресна", "Express"),
    ReceiptMethod.ELECTRONIC: (
        "Чрез електронна поща/уеб базирано приложение",
        "By e-mail or web application",
    ),
    ReceiptMethod.COUNTER: ("На гише", "At the counter"),
    ReceiptMethod.MUNICIPAL_COUNTER: (
        "На гише в общинска администрация",
        "At the counter of a municipal administration",
    ),
    ReceiptMethod.POST_TO_CORRESPONDENCE_ADDRESS: (
        "Чрез пощенски куриерски служби, на посочения адрес за кореспонденция",
        "By post or courier to the correspondence address",
    ),
    ReceiptMethod.POST_TO_OTHER_ADDRESS: (
        "Чрез пощенски куриерски служби, на друг адрес",
        "By post or courier to another address",
    ),
    ReceiptMethod.POST_OFFICE_BOX: (
        "Чрез пощенски куриерски служби, пощенска кутия",
        "By post or courier to a post office box",
    ),
    ReceiptMethod.COUNTER_OF_REQUESTED_ADMINISTRATION: (
        "На гише в поисканата от заявителя администрация",
        "At the counter of the administration the applicant chose",
    ),
    TransportType.WEB: (
        "Пренос на електронен документ чрез уеб базирано приложение",
        "By a web application",
    ),
    TransportType.EMAIL: ("Пренос на електронен документ чрез електронна поща", "By e-mail"),
    TransportType.PHYSICAL_MEDIUM: (
        "Пренос на електронен документ чрез физически носител",
        "On a physical medium",
    ),
    TransportType.EXCHANGE: (
        "Пренос на електронен документ чрез единната среда за обмен на електронни документи",
        "Through the exchange environment for electronic documents (СЕОС)",
    ),
    DiscrepancyType.NOT_IN_FORMAT: (
        "Подаваното заявление не е в нормативно установения формат",
        "The application is not in the prescribed format",
    ),
    DiscrepancyType.TOO_LARGE: (
        "Размерът на заявлението заедно с приложенията надвишава определения размер",
        "The application with its attachments exceeds the size limit",
    ),
    DiscrepancyType.ATTACHMENTS_NOT_IN_FORMAT: (
        "Приложените към заявлението документи не са в нормативно установения формат",
        "The attached documents are not in the prescribed format",
    ),
    DiscrepancyType.MALWARE: (
        "Заявлението и приложенията към него съдържат вируси или друг нежелан софтуер",
        "The application or its attachments contain malware",
    ),
    DiscrepancyType.NO_IDENTIFIER: (
        "Заявлението не съдържа уникален идентификатор на заявителя и на получателя на услугата",
        "The application lacks the identifiers of the applicant and of the recipient",
    ),
    DiscrepancyType.NO_EMAIL: (
        "Заявителят не е посочил електронен пощенски адрес",
        "The applicant gave no e-mail address",
    ),
    DiscrepancyType.MEDIUM_UNREADABLE: (
        "Няма техническа възможност за достъп до съдържанието на физическия носител",
        "The content of the physical medium cannot be read",
    ),
    AuthorQualityType.PERSONAL: ("Лично качество (за собствени нужди)", "In person"),
    AuthorQualityType.PROXY: (
        "Пълномощник на друго физическо или юридическо лице",
        "Proxy of another person or entity",
    ),
    AuthorQualityType.LEGAL_REPRESENTATIVE: (
        "Законен представител на юридическо лице",
        "Legal representative of an entity",
    ),
    AuthorQualityType.OFFICIAL: ("Длъжностно лице", "Official"),
}
