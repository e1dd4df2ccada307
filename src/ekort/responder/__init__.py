"""The OCSP responder: its own lean process, outside Django's request cycle.

`app.py` is a raw ASGI 3 application that answers OCSP requests (RFC 6960, RFC 5019) from
memory; `store.py` keeps that memory in step with the database's pre-signed responses;
`signing.py` signs the rare answers that are not stored ahead of time. `ekort ocsp serve` runs
it under uvicorn; see docs/pki.md, "OCSP responder".
"""
