"""Benchmark: signed СЕОС messages through ``eintegr serve`` over mutual TLS on loopback.

The server is ``eintegr serve`` in its own process (uvicorn + httptools, TLS 1.2+, client
certificates verified by the handshake), with the full receiving pipeline on: П.1–П.9
(hardened parsing, XSD, register look-ups, certificate checks, XMLDSig verification pinned
to the TLS client certificate, duplicate detection) and the default handler, which stores
every accepted message atomically in an inbox folder (``fsync``) before answering. The load
generator (this process) keeps several keep-alive HTTPS connections (one thread and one
httpx client each) and sends pre-signed small registration requests, each with its own
MessageGUID; it checks that every answer is the empty ``SubmitResponse`` and, at the end,
that every message is in the inbox. It prints messages/s, the p50 and p99 latency, and (on
Linux) the CPU time per message of the server and of the load generator: on a shared host
the throughput follows the host's load, the CPU time shows what a message costs.

    python benchmarks/serve.py              # full run (a few thousand messages)
    python benchmarks/serve.py --quick      # a few seconds: proves it works (CI)

Target (issue 4, item 7) on a 2-core machine: ≥ 500 messages/s and p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from eintegr.identifiers import Guid
from eintegr.messages import EntityNode, new_document, registration_request
from eintegr.registry.model import Participant
from eintegr.registry.soap import Directory
from eintegr.signing import sign_message
from eintegr.signing.pki import Issued, make_ca, make_transport_certificate
from eintegr.transport.asgi_server import load_certificate_chain
from eintegr.transport.submit_client import SUBMIT_ACTION, build_submit_request

SENDER_EIK, RECEIVER_EIK = "100000001", "100000019"
HEADERS = {"content-type": "text/xml; charset=utf-8", "soapaction": f'"{SUBMIT_ACTION}"'}
EMPTY_ANSWER = b'<SubmitResponse xmlns="http://services.egov.bg/messaging/"/>'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_messages(
    count: int, sender: Participant, receiver: Participant, key: Issued
) -> list[bytes]:
    signer = key.signer()
    source = EntityNode(
        identifier=sender.eik, administrative_body_name=sender.name, guid=sender.guid
    )
    target = EntityNode(
        identifier=receiver.eik, administrative_body_name=receiver.name, guid=receiver.guid
    )
    document = new_document(kind="Писмо", about="Benchmark")
    return [
        build_submit_request(
            sign_message(
                registration_request(
                    sender=source, recipient=target, document=document, comment="benchmark"
                ),
                signer,
            )
        )
        for _ in range(count)
    ]


def client_context(ca: Issued, sender: Issued) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=ca.certificate_pem().decode("ascii"))
    load_certificate_chain(context, sender)
    return context


def start_server(
    folder: Path, ca: Issued, receiver: Issued, guid: Guid, port: int
) -> subprocess.Popen[bytes]:
    paths = receiver.write(folder, "receiver")
    (folder / "ca.pem").write_bytes(ca.certificate_pem())
    command = [
        sys.executable,
        "-c",
        "import sys; from eintegr.cli.serve import serve_command; serve_command(sys.argv[1:])",
        "--cert", str(paths["certificate"]),
        "--key", str(paths["key"]),
        "--ca", str(folder / "ca.pem"),
        "--register", str(folder / "register.json"),
        "--participant", str(guid),
        "--port", str(port),
        "--inbox", str(folder / "inbox"),
        "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    log = (folder / "serve.log").open("wb")
    try:
        return subprocess.Popen(command, stderr=log)
    finally:
        log.close()  # the child has its own descriptor


def wait_until_up(
    url: str, context: ssl.SSLContext, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"eintegr serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "?wsdl", verify=context, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("eintegr serve did not come up within 30 s")


def run_load(
    url: str, context: ssl.SSLContext, bodies: list[bytes], workers: int
) -> tuple[float, list[float], list[str]]:
    """Send ``bodies`` over ``workers`` keep-alive connections (one thread and one
    ``httpx.Client`` each); return the elapsed time, every latency and every error."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    chunks = [bodies[i::workers] for i in range(workers)]
    barrier = threading.Barrier(workers + 1)

    def worker(chunk: list[bytes]) -> None:
        mine: list[float] = []
        wrong: list[str] = []
        with httpx.Client(verify=context, timeout=30) as client:
            client.get(url + "?wsdl")  # handshake and keep-alive before the clock starts
            barrier.wait()
            for body in chunk:
                started = time.perf_counter()
                answer = client.post(url, content=body, headers=HEADERS)
                mine.append(time.perf_counter() - started)
                if answer.status_code != 200 or EMPTY_ANSWER not in answer.content:
                    wrong.append(f"{answer.status_code}: {answer.text[:300]}")
        with lock:
            latencies.extend(mine)
            errors.extend(wrong)

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, errors


def process_cpu(pid: int) -> float:
    """The CPU seconds (user + system) of process ``pid`` so far; -1 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few seconds (CI smoke run)")
    parser.add_argument("--messages", type=int, help="how many messages (default 4000; quick 300)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent connections")
    args = parser.parse_args(argv)
    count = args.messages or (300 if args.quick else 4000)

    ca = make_ca()
    sender_key = make_transport_certificate(ca, eik=SENDER_EIK, host="sender.test")
    receiver_key = make_transport_certificate(ca, eik=RECEIVER_EIK, host="127.0.0.1")
    sender = Participant(
        eik=SENDER_EIK,
        guid=Guid.new(),
        name="Sender",
        certificate_serial=format(sender_key.certificate.serial_number, "x"),
    )
    receiver = Participant(
        eik=RECEIVER_EIK,
        guid=Guid.new(),
        name="Receiver",
        certificate_serial=format(receiver_key.certificate.serial_number, "x"),
    )
    print(f"signing {count} messages ...", file=sys.stderr)
    bodies = signed_messages(count, sender, receiver, sender_key)
    context = client_context(ca, sender_key)

    from eintegr.registry.files import save_directory

    with tempfile.TemporaryDirectory(prefix="eintegr-bench-") as name:
        folder = Path(name)
        save_directory(Directory((sender, receiver)), folder / "register.json")
        port = free_port()
        url = f"https://127.0.0.1:{port}/"
        process = start_server(folder, ca, receiver_key, receiver.guid, port)
        try:
            wait_until_up(url, context, process, folder / "serve.log")
            server_cpu, client_cpu = process_cpu(process.pid), own_cpu()
            elapsed, latencies, errors = run_load(url, context, bodies, args.workers)
            server_cpu = process_cpu(process.pid) - server_cpu
            client_cpu = own_cpu() - client_cpu
            stored = len(list((folder / "inbox").glob("*.xml")))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    print(
        f"eintegr serve, full pipeline, mTLS, {args.workers} keep-alive connections, {os.cpu_count()} CPUs"
    )
    print(
        f"  messages      {len(latencies)} in {elapsed:.2f} s, {len(errors)} errors, {stored} stored"
    )
    print(f"  throughput    {rate:8.1f} messages/s   (target ≥ 500)")
    print(f"  latency p50   {p50:8.2f} ms")
    print(f"  latency p99   {p99:8.2f} ms          (target < 100)")
    if server_cpu >= 0:
        print(
            f"  CPU time      server {server_cpu / len(latencies) * 1000:.2f} ms/message, "
            f"load generator {client_cpu / len(latencies) * 1000:.2f} ms/message"
        )
    for error in errors[:5]:
        print(f"  error: {error}", file=sys.stderr)
    if errors or stored != len(latencies):
        return 1
    if args.quick:
        return 0
    return 0 if rate >= 500 and p99 < 100 else 2


if __name__ == "__main__":
    sys.exit(main())
