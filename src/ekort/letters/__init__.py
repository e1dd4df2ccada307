"""Printable letters (PDF): the code envelope, the cover letter and the PIN/PUK letter.

An adapter like `ekort.pki`: plain Python and reportlab, no Django. The services hand it a
`LetterData` (with the PUK, unsealed, only for the letters that carry one) and get bytes back.
"""

from .render import LetterData, qr_payload, render_letter

__all__ = ["LetterData", "qr_payload", "render_letter"]
