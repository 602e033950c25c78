"""What the detector reports: a type and a span of character offsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

EMAIL: Final = "email"
PHONE: Final = "phone"
PAYMENT_CARD: Final = "payment_card"
IBAN: Final = "iban"
US_SSN: Final = "us_ssn"
UK_NHS_NUMBER: Final = "uk_nhs_number"
DE_TAX_ID: Final = "de_tax_id"
IP_ADDRESS: Final = "ip_address"
DATE_OF_BIRTH: Final = "date_of_birth"
POSTAL_ADDRESS: Final = "postal_address"

TYPES: Final = (
    EMAIL,
    PHONE,
    PAYMENT_CARD,
    IBAN,
    US_SSN,
    UK_NHS_NUMBER,
    DE_TAX_ID,
    IP_ADDRESS,
    DATE_OF_BIRTH,
    POSTAL_ADDRESS,
)


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One piece of personal data: `text[start:end]` is the value (end exclusive)."""

    start: int
    end: int
    type: str

    def as_json(self) -> dict[str, str | int]:
        return {"type": self.type, "start": self.start, "end": self.end}
