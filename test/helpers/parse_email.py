#!/usr/bin/python3
"""Parses messages with Python's email package (policy.default), an independent reader for round trips.

Reads .eml paths, one per line, from stdin (or takes them as arguments) and prints one JSON object per
message, in order: subject, addresses with display names, the text and HTML bodies, the attachments
(file name, content type, SHA-256 of the decoded bytes) and every defect the parser noticed.
"""
import hashlib
import json
import sys
from email import policy
from email.parser import BytesParser

ADDRESS_FIELDS = ("from", "sender", "to", "cc", "reply-to", "bcc")


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return None
    groups = []
    for group in header.groups:
        groups.append({
            "group": group.display_name,
            "addresses": [{"name": a.display_name, "address": a.addr_spec} for a in group.addresses],
        })
    return {"groups": groups, "defects": [type(d).__name__ for d in header.defects]}


def header_defects(name, value):
    return [f"{name}: {type(d).__name__}: {d}" for d in getattr(value, "defects", ())]


def parse(path):
    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    out = {
        "subject": None if msg["subject"] is None else str(msg["subject"]),
        "text": None,
        "html": None,
        "attachments": [],
        "defects": [type(d).__name__ for d in msg.defects],
        "structure": [],
    }
    for name in ADDRESS_FIELDS:
        out[name] = addresses(msg, name)
    for name, value in msg.items():
        out["defects"].extend(header_defects(name, value))
    for part in msg.walk():
        out["structure"].append(part.get_content_type())
        out["defects"].extend(type(d).__name__ for d in part.defects)
        if part is not msg:
            for name, value in part.items():
                out["defects"].extend(header_defects(name, value))
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        if disposition is None and ctype == "text/plain" and out["text"] is None:
            out["text"] = part.get_content()
        elif disposition is None and ctype == "text/html" and out["html"] is None:
            out["html"] = part.get_content()
        else:
            payload = part.get_payload(decode=True) or b""
            out["attachments"].append({
                "filename": part.get_filename(),
                "content_type": ctype,
                "disposition": disposition,
                "cid": part["content-id"],
                "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            })
    return out


def main():
    paths = sys.argv[1:] or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for path in paths:
        try:
            result = parse(path)
        except Exception as error:  # report, so one bad message does not hide the others
            result = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
