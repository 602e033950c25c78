"""PII detection: precision and recall per type, Presidio side by side, and throughput.

    python bench/bench_pii.py               # 6,000 generated sentences, 20 MB throughput
    python bench/bench_pii.py --quick       # 1,000 sentences, 2 MB (a smoke run)

Span rule: a finding is a true positive when a labelled span of the same type overlaps
it; a labelled span is recalled when a finding of the same type overlaps it. Exits 1 if
a structured type misses recall 0.99 or precision 0.97 on the generated corpus, or the
throughput is under 5 MB/s.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import logging
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum import luhn
from stdnum.iso7064 import mod_11_10

from kiwidesk.pii import TYPES, detect

SEED = 20261123
STRUCTURED = (
    "email",
    "phone",
    "payment_card",
    "iban",
    "us_ssn",
    "uk_nhs_number",
    "de_tax_id",
    "ip_address",
)
RECALL_TARGET = 0.99
PRECISION_TARGET = 0.97
THROUGHPUT_TARGET_MB = 5.0
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "presidio_research_synth"
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "IP_ADDRESS": "ip_address",
    "UK_NHS": "uk_nhs_number",
    "STREET_ADDRESS": "postal_address",
    "ZIP_CODE": "postal_address",
    "ADDRESS": "postal_address",
}

Span = tuple[str, int, int]


@dataclass
class Sample:
    text: str
    spans: list[Span] = field(default_factory=list)


# --- generators of valid values -------------------------------------------------------


def card(rng: random.Random) -> str:
    prefix, length = rng.choice(
        [
            ("4", 16),
            ("4", 16),
            ("51", 16),
            ("55", 16),
            ("2221", 16),
            ("34", 15),
            ("37", 15),
            ("6011", 16),
            ("65", 16),
            ("3530", 16),
            ("36", 14),
            ("4", 13),
            ("62", 19),
        ]
    )
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    separator = rng.choice(["", " ", "-", " "])
    if length == 15:
        return separator.join((number[:4], number[4:10], number[10:]))
    return separator.join(number[index : index + 4] for index in range(0, length, 4))


def bad_card(rng: random.Random) -> str:
    number = card(rng).replace(" ", "").replace("-", "")
    last = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return " ".join(textwrap(number[:-1] + last, 4))


def textwrap(text: str, width: int) -> list[str]:
    return [text[index : index + width] for index in range(0, len(text), width)]


_IBAN_BBAN: dict[str, Callable[[random.Random], str]] = {
    "GB": lambda rng: "".join(rng.choices(string.ascii_uppercase, k=4)) + digits(rng, 14),
    "DE": lambda rng: digits(rng, 18),
    "NL": lambda rng: "".join(rng.choices(string.ascii_uppercase, k=4)) + digits(rng, 10),
    "IE": lambda rng: "".join(rng.choices(string.ascii_uppercase, k=4)) + digits(rng, 14),
    "FR": lambda rng: digits(rng, 23),
    "IT": lambda rng: rng.choice(string.ascii_uppercase) + digits(rng, 22),
    "CH": lambda rng: digits(rng, 17),
    "AT": lambda rng: digits(rng, 16),
}


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices(string.digits, k=count))


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_BBAN))
    bban = _IBAN_BBAN[country](rng)
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    value = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(textwrap(value, 4)) if rng.random() < 0.6 else value


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    value = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    separator = rng.choice(["-", "-", "-", " "])
    return separator.join((value[:3], value[3:5], value[5:]))


def nhs_number(rng: random.Random) -> str:
    while True:
        body = digits(rng, 9)
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        if check != 10:
            value = body + str(0 if check == 11 else check)
            return rng.choice([" ", "", "-"]).join((value[:3], value[3:6], value[6:]))


def de_tax_id(rng: random.Random) -> str:
    chosen = rng.sample(string.digits, 9)
    body = [*chosen, rng.choice(chosen)]
    rng.shuffle(body)
    while body[0] == "0":
        rng.shuffle(body)
    value = "".join(body)
    value += mod_11_10.calc_check_digit(value)
    if rng.random() < 0.5:
        return value
    return " ".join((value[:2], value[2:5], value[5:8], value[8:]))


def phone(rng: random.Random) -> str:
    region = rng.choice(["GB", "US", "DE"])
    kind = rng.choice(
        [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE]
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    while True:
        national = str(example.national_number)
        keep = 3  # the area code or mobile prefix of the example stays valid
        changed = national[:keep] + digits(rng, len(national) - keep)
        number = phonenumbers.parse(changed, region)
        if phonenumbers.is_valid_number(number):
            break
    style = rng.choice(
        [
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.E164,
        ]
    )
    return phonenumbers.format_number(number, style)


def ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return str(ipaddress.IPv4Address(rng.randint(0x01000000, 0xDFFFFFFF)))
    return str(ipaddress.IPv6Address(rng.getrandbits(128)))


def birth_date(rng: random.Random) -> str:
    day = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 60 * 365))
    return rng.choice(
        [
            day.strftime("%d/%m/%Y"),
            day.isoformat(),
            f"{day.day} {day.strftime('%B %Y')}",
            day.strftime("%B ") + f"{day.day}, {day.year}",
            day.strftime("%d.%m.%Y"),
        ]
    )


def address(rng: random.Random, fake: dict[str, Faker]) -> str:
    shape = rng.choice(["uk", "us", "de"])
    if shape == "uk":
        return fake["en_GB"].postcode()
    if shape == "us":
        us = fake["en_US"]
        suffix = rng.choice(["Street", "St", "Avenue", "Ave", "Road", "Drive", "Lane", "Blvd"])
        return (
            f"{rng.randint(1, 9999)} {us.last_name()} {suffix}, {us.city()}, "
            f"{us.state_abbr(include_territories=False)} {us.zipcode()}"
        )
    de = fake["de_DE"]
    street = rng.choice(["straße", "weg", "platz", "allee", "gasse"])
    return f"{de.last_name()}{street} {rng.randint(1, 120)}, {de.postcode()} {de.city_name()}"


TEMPLATES: dict[str, list[str]] = {
    "email": [
        "Please reply to {} instead of this address.",
        "My new email is {}.",
        "cc {} on the ticket please",
    ],
    "phone": [
        "You can call me on {} after 5pm.",
        "Phone: {}",
        "Please ring {} to confirm the delivery.",
    ],
    "payment_card": [
        "I was charged twice on card {} last week.",
        "Card number {}, expiry 09/27.",
        "The card ending {} was declined",
    ],
    "iban": [
        "Please refund to IBAN {}.",
        "Our bank details: {} (Sparkasse)",
        "Send it to {} please",
    ],
    "us_ssn": [
        "My SSN is {} for the tax form.",
        "social security number: {}",
        "SSN {} as requested",
    ],
    "uk_nhs_number": [
        "My NHS number is {}.",
        "NHS no. {} — appointment on Monday",
        "patient {} needs a repeat prescription",
    ],
    "de_tax_id": [
        "Meine Steuer-ID lautet {}.",
        "Steueridentifikationsnummer: {}",
        "tax id {} for the invoice",
    ],
    "ip_address": [
        "The login came from {} at 10:32.",
        "Blocked IP: {}",
        "requests from {} keep failing",
    ],
    "date_of_birth": [
        "I was born on {}.",
        "DOB: {}",
        "Date of birth {} for verification",
        "Geb. {} in Hamburg",
        "my birthday is {}",
    ],
    "postal_address": ["Please ship it to {}.", "Address: {}", "The parcel went to {} instead"],
}
GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "email": lambda rng: FAKES["en_US"].email(),
    "phone": phone,
    "payment_card": card,
    "iban": iban,
    "us_ssn": ssn,
    "uk_nhs_number": nhs_number,
    "de_tax_id": de_tax_id,
    "ip_address": ip,
    "date_of_birth": birth_date,
    "postal_address": lambda rng: address(rng, FAKES),
}
# Sentences with digits and shapes that are NOT personal data, for precision.
NEGATIVES: list[Callable[[random.Random], str]] = [
    lambda rng: (
        f"Order #{digits(rng, 8)} shipped on {rng.randint(1, 28)}/{rng.randint(1, 12)}/2025."
    ),
    lambda rng: (
        f"The invoice total was EUR {rng.randint(10, 9999)}.{rng.randint(10, 99)} incl. VAT."
    ),
    lambda rng: (
        f"We upgraded to version {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        f" on {rng.randint(1, 28)} March 2025."
    ),
    lambda rng: (
        f"Meeting at {rng.randint(8, 18)}:{rng.choice(['00', '15', '30', '45'])}"
        f" in room {rng.randint(100, 999)}."
    ),
    lambda rng: f"Tracking number {digits(rng, 12)} is stuck in transit.",
    lambda rng: f"This card does not work: {bad_card(rng)}",
    lambda rng: f"Ticket {rng.randint(10000, 99999)} was merged into {rng.randint(10000, 99999)}.",
    lambda rng: (
        f"The delivery is due on {rng.randint(1, 28)} April 2026, reference {digits(rng, 6)}."
    ),
]
PROSE = [
    "Thanks for getting back to me so quickly.",
    "I have attached the screenshot of the error message.",
    "The app keeps logging me out when I switch between tabs.",
    "Could you check whether the refund has gone through yet?",
    "We tried clearing the cache but the problem persists for all users on our team.",
    "Kind regards, and have a nice weekend.",
    "The export finished at 3 pm but 12 rows were missing from the file.",
    "Our subscription renews next month and we would like to move to the annual plan.",
    "Ich habe die Rechnung erhalten, aber der Betrag stimmt nicht.",
    "The parcel arrived damaged, the box was open on one side.",
]
FAKES: dict[str, Faker] = {}


def generate(count: int, seed: int = SEED) -> list[Sample]:
    rng = random.Random(seed)
    for locale in ("en_US", "en_GB", "de_DE"):
        FAKES[locale] = Faker(locale)
        FAKES[locale].seed_instance(seed)
    samples: list[Sample] = []
    kinds = list(TYPES)
    for index in range(count):
        if index % 9 == 8:
            samples.append(Sample(f"{rng.choice(PROSE)} {rng.choice(NEGATIVES)(rng)}"))
            continue
        kind = kinds[index % len(kinds)]
        value = GENERATORS[kind](rng)
        before, after = rng.choice(TEMPLATES[kind]).split("{}")
        lead = rng.choice(PROSE) + " " if rng.random() < 0.5 else ""
        start = len(lead) + len(before)
        samples.append(Sample(lead + before + value + after, [(kind, start, start + len(value))]))
    return samples


# --- scoring --------------------------------------------------------------------------


@dataclass
class Score:
    true_positives: Counter[str] = field(default_factory=Counter)
    false_positives: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, sample: Sample, found: Sequence[Span], types: Iterable[str]) -> None:
        scored = set(types)
        for kind, start, end in found:
            if kind not in scored:
                continue
            if any(k == kind and s < end and start < e for k, s, e in sample.spans):
                self.true_positives[kind] += 1
            else:
                self.false_positives[kind] += 1
                if len(self.errors) < 400:
                    self.errors.append(f"FP {kind}: {sample.text[start:end]!r} in {sample.text!r}")
        for kind, start, end in sample.spans:
            if kind not in scored:
                continue
            self.labelled[kind] += 1
            if any(k == kind and s < end and start < e for k, s, e in found):
                self.recalled[kind] += 1
            elif len(self.errors) < 400:
                self.errors.append(f"FN {kind}: {sample.text[start:end]!r} in {sample.text!r}")

    def precision(self, kind: str) -> float | None:
        total = self.true_positives[kind] + self.false_positives[kind]
        return self.true_positives[kind] / total if total else None

    def recall(self, kind: str) -> float | None:
        return self.recalled[kind] / self.labelled[kind] if self.labelled[kind] else None


def ours(text: str) -> list[Span]:
    return [(finding.type, finding.start, finding.end) for finding in detect(text)]


def presidio_detector() -> Callable[[str], list[Span]] | None:
    logging.disable(logging.WARNING)  # tldextract warns it cannot fetch the suffix list offline
    try:
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            NhsRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )
    except ImportError:
        return None
    recognizers = [
        EmailRecognizer(),
        PhoneRecognizer(supported_regions=("GB", "US", "DE")),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
        NhsRecognizer(),
    ]

    def analyse(text: str) -> list[Span]:
        found: list[Span] = []
        for recognizer in recognizers:
            # No NLP artefacts: the pattern recognisers need no spaCy model.
            results = recognizer.analyze(text, recognizer.supported_entities, None)  # type: ignore[arg-type]
            for result in results:
                kind = PRESIDIO_TYPES.get(result.entity_type)
                if kind is not None:
                    found.append((kind, result.start, result.end))
        return found

    return analyse


def score(
    samples: Sequence[Sample], detector: Callable[[str], list[Span]], types: Iterable[str]
) -> Score:
    result = Score()
    kinds = list(types)
    started = time.perf_counter()
    found = [detector(sample.text) for sample in samples]
    result.seconds = time.perf_counter() - started
    for sample, spans in zip(samples, found, strict=True):
        result.add(sample, spans, kinds)
    return result


def presidio_samples() -> list[Sample]:
    samples: list[Sample] = []
    for record in json.loads((DATASETS / "synth_dataset_v2.json").read_text()):
        spans = [
            (PRESIDIO_TYPES[span["entity_type"]], span["start_position"], span["end_position"])
            for span in record["spans"]
            if span["entity_type"] in PRESIDIO_TYPES
        ]
        samples.append(Sample(record["full_text"], spans))
    return samples


def throughput(samples: Sequence[Sample], megabytes: float, seed: int = SEED) -> tuple[float, int]:
    """MB/s of `detect` over messages of realistic support text (PII sentences among prose)."""
    rng = random.Random(seed)
    messages: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        parts = [rng.choice(PROSE) for _ in range(rng.randint(4, 12))]
        parts.insert(rng.randrange(len(parts)), rng.choice(samples).text)
        message = (
            " ".join(parts)
            + "\n\n"
            + "\n".join("> " + rng.choice(PROSE) for _ in range(rng.randint(0, 8)))
        )
        messages.append(message)
        size += len(message.encode())
    started = time.process_time()
    for message in messages:
        detect(message)
    return size / 1_000_000 / (time.process_time() - started), size


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(title: str, results: dict[str, Score], types: Sequence[str]) -> list[str]:
    names = list(results)
    lines = [
        f"### {title}",
        "",
        "| type | labelled | " + " | ".join(f"{name} P | {name} R" for name in names) + " |",
        "|---|---:|" + "---:|---:|" * len(names),
    ]
    for kind in types:
        first = results[names[0]]
        cells = " | ".join(
            f"{fmt(r.precision(kind))} | {fmt(r.recall(kind))}" for r in results.values()
        )
        lines.append(f"| {kind} | {first.labelled[kind]} | {cells} |")
    lines.append("")
    lines.append("time: " + ", ".join(f"{name} {r.seconds:.2f} s" for name, r in results.items()))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=6_000)
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="1,000 sentences and 2 MB")
    parser.add_argument("--errors", type=Path, help="write missed and wrong findings here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.megabytes = 1_000, 2.0

    generated = generate(args.sentences)
    results = {"kiwidesk": score(generated, ours, TYPES)}
    presidio = presidio_detector()
    # Presidio has no recogniser for the German tax id.
    compared = [kind for kind in STRUCTURED if kind != "de_tax_id"]
    if presidio is not None:
        results["presidio"] = score(generated, presidio, compared)
    lines = table(f"Generated corpus: {len(generated)} sentences (seed {SEED})", results, TYPES)
    if presidio is not None:
        ratio = results["presidio"].seconds / results["kiwidesk"].seconds
        lines.append(
            f"speed ratio: kiwidesk is {ratio:.1f}x faster than Presidio's pattern recognisers"
        )
    else:
        lines.append("presidio-analyzer is not installed: no Presidio column")

    synth = presidio_samples()
    synth_results = {"kiwidesk": score(synth, ours, [*compared, "postal_address"])}
    if presidio is not None:
        synth_results["presidio"] = score(synth, presidio, compared)
    lines += [
        "",
        *table(
            f"presidio-research synth_dataset_v2: {len(synth)} sentences"
            " (postal_address informational)",
            synth_results,
            [
                kind
                for kind in [*compared, "postal_address"]
                if synth_results["kiwidesk"].labelled[kind]
            ],
        ),
    ]
    if presidio is not None:
        ratio = synth_results["presidio"].seconds / synth_results["kiwidesk"].seconds
        lines.append(f"speed ratio: {ratio:.1f}x")

    megabytes_per_second, size = throughput(generated, args.megabytes)
    lines += [
        "",
        f"throughput: {megabytes_per_second:.1f} MB/s on one core over {size / 1e6:.1f} MB "
        f"(target {THROUGHPUT_TARGET_MB})",
    ]
    print("\n".join(lines))
    if args.errors:
        errors = results["kiwidesk"].errors + synth_results["kiwidesk"].errors
        args.errors.write_text("\n".join(errors))

    kiwidesk = results["kiwidesk"]
    missed = [
        kind
        for kind in STRUCTURED
        if (kiwidesk.recall(kind) or 0) < RECALL_TARGET
        or (kiwidesk.precision(kind) or 0) < PRECISION_TARGET
    ]
    if megabytes_per_second < THROUGHPUT_TARGET_MB:
        missed.append("throughput")
    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
