"""A simulated PBX stepped by hand, so that a call is live when a test looks or a picture is taken."""

import asyncio
from collections.abc import Iterable
import random
import time

from wildix_simulator.office import (
    COMPANY_NUMBER,
    NORMAL_CLEARING,
    Call,
    Office,
    Payload,
    Remote,
    parse_users,
)
from wildix_simulator.sender import HttpSender
from wildix_simulator.simulation import encode, sign

from .harness import DEMO_USERS


class Pbx:
    """The simulated office of the demo users, one step at a time."""

    def __init__(self, webhook_url: str, secret: str) -> None:
        """Post to a webhook, signing with a secret."""
        self.secret = secret
        self.office = Office(parse_users(DEMO_USERS), random.Random(4))
        self.users = {user.extension: user for user in self.office.users}
        self._sender = HttpSender(webhook_url)

    async def send(self, payloads: Iterable[Payload]) -> None:
        """Sign and post events; fail on any refusal."""
        for payload in payloads:
            body = encode(payload)
            status = await asyncio.to_thread(
                self._sender.post, body, sign(self.secret, body)
            )
            if status != 200:
                raise RuntimeError(f"{payload['type']} answered {status}")

    def now(self) -> int:
        """Return the epoch time in milliseconds."""
        return int(time.time() * 1000)

    async def incoming_call(
        self, extension: str, caller: Remote, *, answer: bool
    ) -> Call:
        """Ring a user from outside; let them answer if asked."""
        office = self.office
        call = office.new_call(
            self.now(), caller, COMPANY_NUMBER, "INBOUND", caller.phone
        )
        await self.send(office.start(call, self.now()))
        await self.send(office.ring(call, self.now(), self.users[extension]))
        if answer:
            await asyncio.sleep(1)
            await self.send(office.answer(call, self.now()))
        return call

    async def live_office(self) -> list[Call]:
        """Set everyone's presence, then leave Alice talking and Bob's phone ringing."""
        office, users, now = self.office, self.users, self.now
        await self.send(office.presence(users["201"], now(), "available"))
        await self.send(
            office.presence(
                users["202"], now(), "away", message="Lunch break", until_minutes=45
            )
        )
        await self.send(
            office.presence(
                users["203"],
                now(),
                "dnd",
                message="Customer workshop",
                until_minutes=90,
            )
        )
        await self.send(
            office.presence(
                users["204"],
                now(),
                "available",
                message="Working from the Berlin office",
                location=("Example Strasse 1, 10115 Berlin", "52.5321", "13.3849"),
            )
        )
        talking = await self.incoming_call(
            "201", Remote("+4930555012345", "Maria Rossi"), answer=True
        )
        ringing = await self.incoming_call(
            "202", Remote("+4989555765432", "+4989555765432"), answer=False
        )
        await asyncio.sleep(1)
        return [talking, ringing]

    async def hang_up(self, call: Call) -> None:
        """End a call normally."""
        await self.send(self.office.hang_up(call, self.now(), NORMAL_CLEARING))
