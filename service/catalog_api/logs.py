"""Structured logs: one JSON object per line on stdout, the shape CloudWatch Logs Insights parses."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

# Fields a caller may attach with `extra={"fields": {...}}`; anything else in a record is ignored,
# so a stray `extra=` can never dump an object (or the environment) into the logs.
FIELDS_ATTR = "fields"
# Made once: json.dumps with any option builds a new encoder on every call (every request's line).
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; exceptions become an `exc` field, never a multi-line dump."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info))[-8000:]
        return _ENCODER.encode(entry)


def configure(level: str) -> None:
    """Send every logger (the service's, uvicorn's, psycopg's) through one JSON handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # No line carries a thread, process or multiprocessing name; each record would look them up.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The service writes its own access line per request; uvicorn's would duplicate it.
    logging.getLogger("uvicorn.access").disabled = True
    # boto's debug logs can include request signatures; keep them quiet even at LOG_LEVEL=debug.
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
