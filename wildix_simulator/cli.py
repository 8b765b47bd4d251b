"""Command line: send a scenario's signed events to a URL and report each answer."""

import argparse
from collections import Counter
from datetime import datetime
import json
import os
import random
import re
import sys
import time
from typing import Any, TextIO

from .office import DEFAULT_USERS, Family, Office, Payload, parse_users
from .scenarios import SCENARIOS, busy_office, everything
from .sender import HttpSender, Unreachable
from .simulation import Delivery, RealClock, Simulation, Stop, VirtualClock

DRY_RUN_SECRET = "dry-run-secret"
SCENARIO_NAMES = [*SCENARIOS, "busy-office", "all"]
_FAMILIES = {
    "legacy": (Family.LEGACY,),
    "live": (Family.LIVE,),
    "both": (Family.LEGACY, Family.LIVE),
}
_FATAL = {
    401: (
        "Home Assistant answered 401 Unauthorized: the signature did not verify. Check that "
        "--secret is the secret of this Wildix entry, and that --url is the webhook URL the "
        "integration showed (other /api/ URLs answer 401 as well)."
    ),
    404: "Home Assistant answered 404 Not Found: --url is not a webhook URL of this Home Assistant.",
    405: "Home Assistant answered 405 Method Not Allowed: --url is not a webhook URL that takes POSTs.",
}
_WEBHOOK_ID = re.compile(r"(/api/webhook/)([^/?#]{4})[^/?#]*")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description=(
            "Play a Wildix PBX: send realistic, signed Wildix webhook events to a URL "
            "(the webhook URL the Wildix integration shows) and print Home Assistant's answer "
            "to each. Exits with 1 when any delivery is refused."
        ),
    )
    parser.add_argument(
        "--url", help="webhook URL, e.g. http://127.0.0.1:8123/api/webhook/<id>"
    )
    parser.add_argument(
        "--secret",
        default=os.environ.get("WILDIX_SECRET"),
        help=(
            "the secret the integration was set up with (default: $WILDIX_SECRET; "
            f"with --dry-run and no secret: {DRY_RUN_SECRET})"
        ),
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIO_NAMES,
        default="inbound-answered",
        help="what happens (default: inbound-answered; all = every scenario but busy-office)",
    )
    parser.add_argument(
        "--users",
        default=DEFAULT_USERS,
        help=f"PBX users as EXT:NAME,EXT:NAME (default: {DEFAULT_USERS})",
    )
    parser.add_argument(
        "--families",
        choices=list(_FAMILIES),
        default="both",
        help="call events to send: legacy call:start|update|end, live call:live:* and "
        "call:completed, or both (default: both)",
    )
    parser.add_argument(
        "--no-telephony",
        dest="telephony",
        action="store_false",
        help="do not send presence:telephony events alongside calls",
    )
    parser.add_argument(
        "--duplicates",
        type=_probability,
        default=0.0,
        metavar="P",
        help="probability that an event is sent again later with the same bytes, as Wildix "
        "retries do (default: 0)",
    )
    parser.add_argument(
        "--rate",
        type=_positive,
        default=1.0,
        help="busy-office: events per second on average (default: 1)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="busy-office: seconds to run, 0 for until Ctrl-C (default: 60)",
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="divide every wait inside a scenario by this (default: 1, real time)",
    )
    parser.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each signed body as a JSON line instead of sending it, without waiting",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the summary and errors"
    )
    return parser


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.secret and args.dry_run:
        # Nothing is sent: sign with a placeholder so the bodies can be looked at.
        args.secret = DRY_RUN_SECRET
    if not args.secret:
        parser.error("--secret (or $WILDIX_SECRET) is required")
    if not args.dry_run and not args.url:
        parser.error("--url is required (or use --dry-run)")
    try:
        users = parse_users(args.users)
    except ValueError as err:
        parser.error(f"--users: {err}")
    rng = random.Random(args.seed)
    office = Office(
        users, rng, families=_FAMILIES[args.families], telephony=args.telephony
    )
    report = Report(
        sys.stderr if args.dry_run else out,
        quiet=args.quiet or args.dry_run,
        url=args.url,
        dry_run=args.dry_run,
    )
    if args.dry_run:
        clock: RealClock | VirtualClock = VirtualClock(int(time.time() * 1000))

        def deliver(delivery: Delivery) -> None:
            line = {"signature": delivery.signature, "body": delivery.body.decode()}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            report.record(delivery, 200)

    else:
        clock = RealClock()
        try:
            sender = HttpSender(args.url)
        except ValueError as err:
            parser.error(str(err))

        def deliver(delivery: Delivery) -> None:
            try:
                status = sender.post(delivery.body, delivery.signature)
            except Unreachable as err:
                report.fail(f"Could not reach {report.url}: {err}")
                raise Stop from err
            report.record(delivery, status)
            if status in _FATAL:
                report.fail(_FATAL[status])
                raise Stop

    sim = Simulation(
        office,
        clock,
        args.secret,
        deliver,
        speed=args.speed,
        duplicates=args.duplicates,
    )
    if not args.quiet:
        report.start(args, len(users))
    try:
        if args.scenario == "busy-office":
            busy_office(sim, 0.0, args.rate)
            duration = args.duration if args.duration > 0 else None
            if args.dry_run and duration is None:
                parser.error("--dry-run needs a --duration for busy-office")
            sim.run(until_s=duration)
        else:
            try:
                (everything if args.scenario == "all" else SCENARIOS[args.scenario])(
                    sim, 0.0
                )
            except ValueError as err:
                parser.error(str(err))
            sim.run()
    except Stop:
        pass
    except KeyboardInterrupt:
        report.note("interrupted")
    return report.finish()


class Report:
    """Prints each delivery and a summary; remembers whether any was refused."""

    def __init__(
        self, out: TextIO, *, quiet: bool, url: str | None, dry_run: bool = False
    ) -> None:
        """Report to a stream."""
        self.out = out
        self.dry_run = dry_run
        self.quiet = quiet
        self.url = mask(url or "")
        self.statuses: Counter[int] = Counter()
        self.resent = 0
        self.failed: str | None = None
        self._began = time.monotonic()

    def start(self, args: argparse.Namespace, users: int) -> None:
        """Say what is about to happen."""
        target = "stdout" if args.dry_run else self.url
        self._print(
            f"Simulating Wildix ({args.scenario}, {users} users, {args.families} call events"
            f"{', telephony' if args.telephony else ''}) -> {target}"
        )

    def record(self, delivery: Delivery, status: int) -> None:
        """Note one delivery and its answer."""
        self.statuses[status] += 1
        self.resent += delivery.duplicate
        payload = delivery.payload
        if not self.quiet or status >= 300:
            moment = datetime.fromtimestamp(payload["time"] / 1000).strftime(
                "%H:%M:%S.%f"
            )[:-3]
            again = " (sent again)" if delivery.duplicate else ""
            self._print(
                f"{moment}  {status}  {payload['type']:<22} {describe(payload)}{again}"
            )

    def fail(self, message: str) -> None:
        """Note why the run stopped."""
        self.failed = message

    def note(self, message: str) -> None:
        """Print a remark."""
        self._print(message)

    def finish(self) -> int:
        """Print the summary and return the exit status."""
        sent = sum(self.statuses.values())
        refused = sum(
            n for status, n in self.statuses.items() if not 200 <= status < 300
        )
        if self.failed:
            sys.stderr.write(f"error: {self.failed}\n")
        answers = ", ".join(
            f"{n} x {status}" for status, n in sorted(self.statuses.items())
        )
        if self.dry_run:
            answers = "printed, not sent"
        self._print(
            f"Sent {sent} events ({self.resent} sent again) in "
            f"{time.monotonic() - self._began:.1f} s: {answers or 'none'}"
        )
        if refused:
            sys.stderr.write(f"error: {refused} deliveries were refused\n")
        return 1 if refused or self.failed else 0

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def describe(payload: Payload) -> str:
    """Return a short human description of an event."""
    data: dict[str, Any] = payload.get("data", {})
    kind = payload["type"]
    if kind.startswith("presence:"):
        text = f"{data.get('extension')} {data.get('status')}"
        if data.get("message"):
            text += f" ({data['message']})"
        return text
    call = str(payload.get("id", "")).rsplit("_", 1)[-1]
    flows = data.get("flows")
    if isinstance(flows, list) and flows:
        flow = flows[-1]
        status = flow.get("status") or flow.get("callStatus")
        return f"call {call} flow {flow.get('flowIndex')}: {_who(flow)} {status}"
    return f"call {call}: {_who(data)} {data.get('status')}"


def _who(section: dict[str, Any]) -> str:
    names = []
    for key in ("caller", "callee"):
        party = section.get(key)
        names.append(party.get("name", "?") if isinstance(party, dict) else "?")
    return " -> ".join(names)


def mask(url: str) -> str:
    """Hide all but the start of a webhook id in a URL (it works like a password)."""
    return _WEBHOOK_ID.sub(r"\g<1>\g<2>…", url)


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value
