"""The scenarios of "Процедура по проверка за съвместимост" as data.

Every :class:`Scenario` names the check of the specification it exercises, says in English
and Bulgarian what the tester (the counter-party) does and what the system under test must
do, and whether it is taken from the procedure as written or *derived* from the
specification's checks where the procedure says ``(?)`` or ``TODO``.

Receiving scenarios (the system under test is the **server**, the tester the client) run
against a live ``Submit`` endpoint; sending scenarios (the system under test is the
**client**, the tester a scripted server) need the system to be triggered to send.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

__all__ = ["SCENARIOS", "Direction", "Scenario", "scenario", "select"]


class Direction(enum.StrEnum):
    """Which side of the exchange the system under test plays."""

    RECEIVING = "receiving"
    """The system under test receives (serves ``Submit``); the tester is the client."""
    SENDING = "sending"
    """The system under test sends (calls ``Submit``); the tester is the server."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One conformance scenario.

    :ivar id: stable identifier (the specification's check ID where the procedure gives one).
    :ivar number: its position in the procedure's list for ``direction``.
    :ivar title, title_bg: what is checked, in English and Bulgarian.
    :ivar setup, setup_bg: what the tester does.
    :ivar expected, expected_bg: the outcome the system under test must produce.
    :ivar derived: ``True`` when the procedure marks the scenario ``(?)`` or ``TODO`` and the
        case was derived from the specification's checks.
    """

    id: str
    direction: Direction
    number: int
    title: str
    title_bg: str
    setup: str
    setup_bg: str
    expected: str
    expected_bg: str
    derived: bool = False


_FAULT = "the server answers with a SOAP fault (or refuses the connection) and stops"
_FAULT_BG = "сървърът връща грешка (fault) или отказва връзката и прекратява обработката"
_STOP = "the client marks the message as failed and does not retry it"
_STOP_BG = "клиентът маркира съобщението с грешка и прекратява опитите за изпращането му"

R, S = Direction.RECEIVING, Direction.SENDING

SCENARIOS: Final[tuple[Scenario, ...]] = (
    # --- receiving: the system under test is the server ----------------------------------
    Scenario(
        "П.1",
        R,
        1,
        "no client certificate is refused",
        "отказ при липса на клиентски сертификат",
        "the tester connects without a client certificate and submits a valid message",
        "тестващият се свързва без клиентски сертификат и изпраща валидно съобщение",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.1-INVALID",
        R,
        2,
        "an invalid client certificate is refused",
        "отказ при невалиден клиентски сертификат",
        "the tester presents an expired, self-signed client certificate (RFC 5280)",
        "тестващият използва изтекъл самоподписан клиентски сертификат (RFC 5280)",
        _FAULT,
        _FAULT_BG,
        derived=True,
    ),
    Scenario(
        "П.5-UNREGISTERED",
        R,
        3,
        "a client certificate of no registered participant is refused",
        "отказ при клиентски сертификат, който не принадлежи на вписан участник",
        "the tester presents a trusted certificate that no participant of the register holds",
        "тестващият използва доверен сертификат, който не е на участник от Регистъра",
        _FAULT,
        _FAULT_BG,
        derived=True,
    ),
    Scenario(
        "П.5-INACTIVE",
        R,
        4,
        "an inactive participant is refused",
        "отказ при клиентски сертификат на неактивен участник",
        "the tester sends as a participant whose status in the register is Inactive, with its "
        "certificate",
        "тестващият изпраща като участник със статус „Неактивен“ в Регистъра, с неговия сертификат",
        _FAULT,
        _FAULT_BG,
        derived=True,
    ),
    Scenario(
        "П.SIZE",
        R,
        5,
        "an oversize message is refused",
        "отказ при съобщение над максимално допустимия размер",
        "the tester submits a signed message larger than the endpoint's declared limit",
        "тестващият изпраща подписано съобщение, по-голямо от обявения лимит на крайната точка",
        _FAULT,
        _FAULT_BG,
        derived=True,
    ),
    Scenario(
        "П.2",
        R,
        6,
        "a message that is not well-formed XML is refused",
        "отказ при съобщение, което не е валиден XML документ",
        "the tester submits a string that is not well-formed XML",
        "тестващият изпраща низ, който не е валиден XML документ",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.3",
        R,
        7,
        "a message not valid against the XSD is refused",
        "отказ при съобщение, несъответстващо на XSD схемите",
        "the tester submits a signed, well-formed Message with an element the XSD does not allow",
        "тестващият изпраща подписано съобщение с елемент, който XSD схемата не допуска",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.4",
        R,
        8,
        "a message for another participant is refused",
        "отказ при съобщение до друг участник",
        "the tester submits a signed message whose recipient is another registered participant",
        "тестващият изпраща подписано съобщение, чийто получател е друг вписан участник",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.6",
        R,
        9,
        "a client certificate other than the sender's is refused",
        "отказ, когато клиентският сертификат не е транспортният сертификат на подателя",
        "the tester's message names the tester as sender, but TLS uses another participant's "
        "(or an unregistered) certificate",
        "съобщението на тестващия сочи него за подател, а TLS връзката е с друг сертификат",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.7",
        R,
        10,
        "an unsigned message is refused",
        "отказ при съобщение без електронен подпис",
        "the tester submits a valid message without ds:Signature",
        "тестващият изпраща валидно съобщение без ds:Signature",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.8",
        R,
        11,
        "a message signed with another certificate is refused",
        "отказ при съобщение, подписано с друг сертификат",
        "the tester signs the message with a certificate other than its transport certificate",
        "тестващият подписва съобщението със сертификат, различен от транспортния",
        _FAULT,
        _FAULT_BG,
    ),
    Scenario(
        "П.9",
        R,
        12,
        "a message received before is refused",
        "отказ при вече получено съобщение",
        "the tester submits a valid message, then the same message (same MessageGUID) again",
        "тестващият изпраща валидно съобщение и после същото съобщение (същия MessageGUID)",
        "the first submission is accepted, the second answered with a fault",
        "първото изпращане е прието, второто получава грешка (fault)",
    ),
    Scenario(
        "П.OK",
        R,
        13,
        "a message that passes every check is accepted",
        "приемане на съобщение, което преминава всички проверки",
        "the tester submits a valid, signed registration request",
        "тестващият изпраща валидно подписано заявление за регистриране на документ",
        "an empty answer, or a response message that passes the sender's checks И.9–И.15",
        "празен отговор или съобщение-отговор, което преминава проверките И.9–И.15",
        derived=True,
    ),
    # --- receiving, application level (derived from ЗР.*, ПС.*, ИС.*, ИГ.*) ---------------
    Scenario(
        "ЗР.NEW",
        R,
        14,
        "a registration request for a new document is answered with its status",
        "заявление за регистриране на нов документ получава известие за състоянието му",
        "the tester submits a valid registration request for a document the system has not seen",
        "тестващият изпраща валидно заявление за регистриране на непознат за системата документ",
        "a DocumentStatusResponse for that DocumentGUID, DS_WAIT_REGISTRATION, DS_REJECTED, "
        "DS_REGISTERED, DS_STOPPED or DS_CLOSED, with a number or URI (ЗР.2–ЗР.9), synchronous "
        "or pushed; it passes the transport checks",
        "известие за състояние на документа със същия DocumentGUID и статус DS_WAIT_REGISTRATION, "
        "DS_REJECTED, DS_REGISTERED, DS_STOPPED или DS_CLOSED, с номер или УРИ (ЗР.2–ЗР.9), "
        "синхронно или изпратено по-късно; преминава транспортните проверки",
        derived=True,
    ),
    Scenario(
        "ЗР.1",
        R,
        15,
        "a document sent again is answered DS_ALREADY_RECEIVED",
        "повторно изпратен документ получава статус DS_ALREADY_RECEIVED",
        "the tester sends the registration request of ЗР.NEW again, with a new MessageGUID",
        "тестващият изпраща отново заявлението от ЗР.NEW с нов MessageGUID",
        "a DocumentStatusResponse DS_ALREADY_RECEIVED for that DocumentGUID with the system's "
        "number or URI",
        "известие за състояние DS_ALREADY_RECEIVED за същия DocumentGUID с номер или УРИ при "
        "получателя",
        derived=True,
    ),
    Scenario(
        "ПС.1",
        R,
        16,
        "a status request for an unknown document is answered DS_NOT_FOUND",
        "заявление за проверка на състоянието на липсващ документ получава DS_NOT_FOUND",
        "the tester asks for the status of a DocumentGUID the system has never received",
        "тестващият пита за състоянието на документ с DocumentGUID, непознат за системата",
        "a DocumentStatusResponse DS_NOT_FOUND for that DocumentGUID, with the request's number",
        "известие за състояние DS_NOT_FOUND за същия DocumentGUID с номера от заявлението",
        derived=True,
    ),
    Scenario(
        "ПС.KNOWN",
        R,
        17,
        "a status request for a received document is answered with its status",
        "заявление за проверка на състоянието на получен документ получава текущия статус",
        "the tester asks for the status of the document of ЗР.NEW",
        "тестващият пита за състоянието на документа от ЗР.NEW",
        "a DocumentStatusResponse for that DocumentGUID with its current status (not "
        "DS_NOT_FOUND) and a number or URI (ПС.2–ПС.7)",
        "известие за състояние за същия DocumentGUID с текущия статус (не DS_NOT_FOUND) и номер "
        "или УРИ (ПС.2–ПС.7)",
        derived=True,
    ),
    Scenario(
        "ИС.1",
        R,
        18,
        "a status notice about an unknown document is answered with an external error",
        "известие за състояние на непознат документ получава известие за външна грешка",
        "the tester sends a DS_REGISTERED status notice about a document the system never sent",
        "тестващият изпраща известие DS_REGISTERED за документ, който системата не е изпращала",
        "an Error ERR_EXTERNAL whose MessageGUID is the notice's",
        "известие за грешка ERR_EXTERNAL с MessageGUID на известието за състояние",
        derived=True,
    ),
    Scenario(
        "ИГ.1-INTERNAL",
        R,
        19,
        "an internal-error notice about an unknown message is answered with an external error",
        "известие за вътрешна грешка по непознато съобщение получава известие за външна грешка",
        "the tester sends an ERR_INTERNAL Error naming a MessageGUID the system never sent",
        "тестващият изпраща известие за грешка ERR_INTERNAL за съобщение, което системата не е "
        "изпращала",
        "an Error ERR_EXTERNAL whose MessageGUID is the error notice's",
        "известие за грешка ERR_EXTERNAL с MessageGUID на полученото известие за грешка",
        derived=True,
    ),
    Scenario(
        "ИГ.1-EXTERNAL",
        R,
        20,
        "an external-error notice about an unknown message is answered with an external error",
        "известие за външна грешка по непознато съобщение получава известие за външна грешка",
        "the tester sends an ERR_EXTERNAL Error naming a MessageGUID the system never sent",
        "тестващият изпраща известие за грешка ERR_EXTERNAL за съобщение, което системата не е "
        "изпращала",
        "an Error ERR_EXTERNAL whose MessageGUID is the error notice's",
        "известие за грешка ERR_EXTERNAL с MessageGUID на полученото известие за грешка",
        derived=True,
    ),
    # --- sending: the system under test is the client ------------------------------------
    Scenario(
        "И.7",
        S,
        1,
        "a server certificate that is not the recipient's is refused",
        "отказ при сървърен сертификат, различен от транспортния сертификат на получателя",
        "the tester's server presents a certificate other than the one registered for it",
        "сървърът на тестващия използва сертификат, различен от вписания в Регистъра",
        "the client does not deliver the message (error or retry later)",
        "клиентът не предава съобщението (грешка или повторен опит по-късно)",
    ),
    Scenario(
        "И.8",
        S,
        2,
        "a fault answer is handled",
        "обработка на изключение/грешка (fault)",
        "the tester's server answers the Submit with a SOAP fault",
        "сървърът на тестващия отговаря с грешка (SOAP fault)",
        "the client handles the fault (error or retry later) and keeps working",
        "клиентът обработва грешката (грешка или повторен опит) и продължава работа",
    ),
    Scenario(
        "И.REG",
        S,
        3,
        "a registration request without attachments is sent; an empty answer is accepted",
        "изпращане на заявление за регистриране без прикачени файлове, празен резултат",
        "the tester checks the request (П.1–П.9) and answers with an empty result",
        "тестващият проверява заявлението (П.1–П.9) и връща празен резултат",
        "the request passes the receiver's checks; the client marks the message as sent",
        "заявлението преминава проверките; клиентът маркира съобщението като изпратено",
        derived=True,
    ),
    Scenario(
        "И.REG-ATT",
        S,
        4,
        "a registration request with attachments is sent; an empty answer is accepted",
        "изпращане на заявление за регистриране с прикачени файлове, празен резултат",
        "the tester checks the request (П.1–П.9, attachments present) and answers empty",
        "тестващият проверява заявлението (П.1–П.9, с прикачени файлове) и връща празен резултат",
        "the request passes the receiver's checks; the client marks the message as sent",
        "заявлението преминава проверките; клиентът маркира съобщението като изпратено",
        derived=True,
    ),
    Scenario(
        "И.9",
        S,
        5,
        "an answer that is not well-formed XML is refused",
        "обработка на отговор, който не е валиден XML документ",
        "the tester accepts the request and answers with a string that is not XML",
        "тестващият приема заявлението и връща низ, който не е XML",
        _STOP,
        _STOP_BG,
    ),
    Scenario(
        "И.10",
        S,
        6,
        "an answer not valid against the XSD is refused",
        "обработка на отговор, несъответстващ на XSD схемите",
        "the tester answers with a signed Message the XSD does not allow",
        "тестващият връща подписано съобщение, което не съответства на XSD схемите",
        _STOP,
        _STOP_BG,
    ),
    Scenario(
        "И.11",
        S,
        7,
        "an answer whose recipient is not the sender is refused",
        "обработка на отговор с получател, различен от подателя",
        "the tester answers with a signed status response addressed to another participant",
        "тестващият връща подписано известие до друг участник",
        _STOP,
        _STOP_BG,
        derived=True,
    ),
    Scenario(
        "И.12",
        S,
        8,
        "an answer whose sender is not the recipient is refused",
        "обработка на отговор с подател, различен от получателя",
        "the tester answers with a signed status response naming another participant as sender",
        "тестващият връща подписано известие с друг участник за подател",
        _STOP,
        _STOP_BG,
        derived=True,
    ),
    Scenario(
        "И.13",
        S,
        9,
        "an unsigned answer is refused",
        "обработка на отговор без електронен подпис",
        "the tester answers with a valid status response without ds:Signature",
        "тестващият връща валидно известие без ds:Signature",
        _STOP,
        _STOP_BG,
        derived=True,
    ),
    Scenario(
        "И.14",
        S,
        10,
        "an answer signed with another certificate is refused",
        "обработка на отговор, подписан с друг сертификат",
        "the tester signs its status response with a certificate other than its transport one",
        "тестващият подписва известието със сертификат, различен от транспортния",
        _STOP,
        _STOP_BG,
        derived=True,
    ),
    Scenario(
        "И.15",
        S,
        11,
        "an answer with a MessageGUID already seen is refused",
        "обработка на отговор с вече получен/изпратен уникален идентификатор",
        "the tester answers with a signed status response carrying the request's MessageGUID",
        "тестващият връща подписано известие с MessageGUID на заявлението",
        _STOP,
        _STOP_BG,
        derived=True,
    ),
)
"""Every scenario, receiving ones first, in the procedure's order."""

_BY_ID: Final = {s.id: s for s in SCENARIOS}


def scenario(scenario_id: str) -> Scenario:
    """The scenario with ``scenario_id`` (case-insensitive).

    :raises KeyError: no such scenario.
    """
    found = _BY_ID.get(scenario_id.strip().upper())
    if found is None:
        raise KeyError(scenario_id)
    return found


def select(
    ids: tuple[str, ...] | list[str] = (), *, direction: Direction | None = None
) -> list[Scenario]:
    """The scenarios with ``ids`` (all when empty) of ``direction`` (both when ``None``).

    :raises KeyError: an unknown ID.
    """
    wanted = {scenario(i).id for i in ids}
    return [
        s
        for s in SCENARIOS
        if (not wanted or s.id in wanted) and (direction is None or s.direction is direction)
    ]
