"""The receiving participant of the crash test, run as a separate process.

    python crash_receiver.py FOLDER PORT

Reads its credentials (``obshtina.key.pem`` / ``obshtina.crt.pem``), the CA (``ca.crt.pem``)
and the register (``register.json``) from FOLDER, keeps its journal in
``FOLDER/obshtina.sqlite``, registers every new document at once (taking 20 ms over it, as
a document-management system would, so that kills often land mid-way), logs to
``FOLDER/receiver.log``, serves ``Submit`` on 127.0.0.1:PORT with mutual TLS, prints
``ready`` and runs until it is killed.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from eintegr.exchange import (
    Decision,
    IncomingDocument,
    Node,
    SqliteJournal,
    register_automatically,
)
from eintegr.exchange.local import LocalParty, start_endpoint, submit_transport
from eintegr.identifiers import Guid
from eintegr.registry.files import load_directory
from eintegr.registry.model import StaticRegister
from eintegr.signing import load_certificates
from eintegr.signing.pki import Issued


def slow_registration(document: IncomingDocument) -> Decision:
    time.sleep(0.02)
    return register_automatically(document)


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    logging.basicConfig(
        filename=folder / "receiver.log",
        level=logging.INFO,
        format="%(asctime)s %(process)d %(name)s %(message)s",
    )
    guid = Guid.parse((folder / "obshtina.guid").read_text(encoding="ascii").strip())
    credentials = Issued.read(folder, "obshtina")
    ca = load_certificates(folder / "ca.crt.pem")
    register = StaticRegister(load_directory(folder / "register.json").participants)
    me = register.by_guid(guid)
    party = LocalParty(name=me.name, eik=me.eik, guid=guid, credentials=credentials)
    journal = SqliteJournal(folder / "obshtina.sqlite")
    node = Node(
        identity=me,
        signer=party.signer(),
        register=register,
        transport=submit_transport(party, register=register, ca=ca, journal=journal),
        journal=journal,
        on_registration=slow_registration,
    )
    start_endpoint(node, party, ca=ca, port=port)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
