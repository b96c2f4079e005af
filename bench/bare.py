"""The floor: a bare client on the same pages — requests, orjson, one JSON line per record.

    python -m bench.bare STREAM BASE_URL START_DAY DAYS PARTITION

No SDK, no schema, no state: the least work any extractor must do.
"""

from __future__ import annotations

import datetime as dt
import sys

import orjson
import requests

from sandbox.credentials import SANDBOX


def days(start: str, count: int) -> list[dt.date]:
    first = dt.date.fromisoformat(start)
    return [first + dt.timedelta(days=i) for i in range(count)]


def airgentic(session: requests.Session, base: str, day: dt.date, partition: str):
    response = session.get(
        f"{base}/api/insights/raw",
        params={"account_id": SANDBOX["airgentic"]["account_id"], "service_id": partition,
                "start_date": day.isoformat(), "end_date": day.isoformat()},
        headers={"api-key": SANDBOX["airgentic"]["api_key"]},
    )
    response.raise_for_status()
    yield from orjson.loads(response.content)["data"]


def agentx_messages(session: requests.Session, base: str, day: dt.date, partition: str):
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    params = {"start_time": start, "end_time": start + 86400, "bot_name": partition,
              "per_page": 1000}
    while True:
        response = session.get(f"{base}/conversations/export/v1/messages", params=params,
                               headers={"x-api-key": SANDBOX["agentx"]["api_key"]})
        response.raise_for_status()
        body = orjson.loads(response.content)
        yield from body["data"]
        if not body.get("cursor"):
            return
        params["cursor"] = body["cursor"]


def kore_interactions(session: requests.Session, base: str, day: dt.date, partition: str):
    creds = SANDBOX["kore"]
    url = f"{base}/agentassist/api/v1/public/{partition}/v2/agentassistinteractions"
    frm = f"{day.isoformat()} 00:00:00"
    to = f"{(day + dt.timedelta(days=1)).isoformat()} 00:00:00"
    offset = 0
    while True:
        response = session.get(url, params={"from": frm, "to": to, "offset": offset,
                                            "limit": 100},
                               headers={"accountId": creds["account_id"], "auth": creds["jwt"]})
        response.raise_for_status()
        body = orjson.loads(response.content)
        yield from body["data"]
        if not body.get("hasMore"):
            return
        offset += 100


CLIENTS = {
    "airgentic_records": airgentic,
    "agentx_messages": agentx_messages,
    "kore_interactions": kore_interactions,
}


def main(stream: str, base: str, start: str, count: str, partition: str) -> None:
    client = CLIENTS[stream]
    session = requests.Session()
    out = sys.stdout.buffer
    for day in days(start, int(count)):
        for record in client(session, base, day, partition):
            out.write(orjson.dumps({"type": "RECORD", "stream": stream, "record": record}))
            out.write(b"\n")
    out.flush()


if __name__ == "__main__":
    main(*sys.argv[1:])
