"""PKI services: the CA hierarchy, issuing certificates to cards, revocation and its
publication (CRL, OCSP). Card state and certificate status change in one transaction."""
