"""The PKI adapter: keys, the certificate authority, certificate profiles, CRL and OCSP.

Plain Python on `cryptography` (no Django): the services call it, and the OCSP responder runs
it in a process of its own. Private key bytes are touched only by the key backends in `keys`.
"""
