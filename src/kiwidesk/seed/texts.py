"""What the demo's customers, agents and third parties write, as small template pools.

Each Topic is one kind of customer need. Placeholders are filled per message with
`str.format` from a handful of values, which is far cheaper than Faker per message.
"""

from __future__ import annotations

from dataclasses import dataclass

CLINICIAN = "clinician"
CONCIERGE = "concierge"
ESCALATION = "escalation"


@dataclass(frozen=True)
class Topic:
    kind: str  # CLINICIAN, CONCIERGE or ESCALATION
    category: str
    subjects: tuple[str, ...]
    openings: tuple[str, ...]
    follow_ups: tuple[str, ...]
    tags: tuple[str, ...]
    priority: str = "normal"
    clinical_share: float = 0.0
    confidential_share: float = 0.0
    vendor_category: str = ""


CLINICIAN_TOPICS = (
    Topic(
        CLINICIAN,
        "App bug",
        (
            "The care-pathway screen froze",
            "Care pathway won't load",
            "Stuck on the care-pathway screen",
        ),
        (
            "The care-pathway screen froze.",
            "Hi, the care pathway froze again in the middle of a session with a client. "
            "I had to restart the app. {first}",
            "Care pathway is stuck on the loading wheel since this morning. I have sessions "
            "all afternoon.",
        ),
        (
            "It happened again at {time}. Same screen.",
            "I'm on the iPad app, latest version I think.",
            "Any news? I have a client at {time} tomorrow.",
        ),
        ("care-pathway", "bug"),
        priority="high",
        clinical_share=0.2,
    ),
    Topic(
        CLINICIAN,
        "Data export",
        (
            "Export session notes",
            "How do I export my session notes?",
            "Session notes export is empty",
        ),
        (
            "I need to export all session notes for one client for a court report. How?",
            "The export of my session notes comes out as an empty PDF.",
            "Can I get my notes out as Word documents? My supervisor asked for them.",
        ),
        (
            "I only need the notes from {month}.",
            "Tried again, still empty.",
            "Thanks, is there a way to leave out the risk assessments?",
        ),
        ("export", "session-notes"),
        clinical_share=0.5,
        confidential_share=0.2,
    ),
    Topic(
        CLINICIAN,
        "Billing",
        (
            "Invoice charged twice",
            "Question about my invoice",
            "Wrong number of seats on the bill",
        ),
        (
            "I was charged twice for {month}. Can you refund one of them?",
            "Our invoice shows 6 seats but we are only 4 clinicians.",
            "Can the invoice go to the practice manager instead of me?",
        ),
        (
            "The second charge is still on my card statement.",
            "Our practice manager is copied in now.",
            "Thanks. Could you also send a receipt?",
        ),
        ("billing", "invoice"),
        confidential_share=0.1,
    ),
    Topic(
        CLINICIAN,
        "Account access",
        (
            "2FA reset",
            "Lost my phone, can't log in",
            "Locked out after two-factor change",
        ),
        (
            "I got a new phone and the authenticator codes are gone. I can't log in and I "
            "have sessions today.",
            "Please reset my two-factor authentication, I'm locked out.",
            "The 2FA code is never accepted. Help!",
        ),
        (
            "Yes, the email on the account is this one.",
            "I'm in front of my computer now if you want to call.",
            "Still locked out.",
        ),
        ("2fa", "login"),
        priority="high",
    ),
    Topic(
        CLINICIAN,
        "Integrations",
        (
            "Sessions duplicated in my calendar",
            "Outlook sync stopped",
            "Google Calendar shows clients' full names",
        ),
        (
            "Every session shows twice in Outlook since last week.",
            "The calendar sync stopped on {day}. Nothing new appears.",
            "My Google Calendar shows clients' full names. It should only show initials.",
        ),
        (
            "I disconnected and reconnected, no change.",
            "It's the work calendar, not my personal one.",
            "Any update? My secretary books from that calendar.",
        ),
        ("calendar", "sync"),
        confidential_share=0.15,
    ),
    Topic(
        CLINICIAN,
        "Measures",
        (
            "PHQ-9 scores missing from the chart",
            "Outcome questionnaire not sent",
            "GAD-7 totals look wrong",
        ),
        (
            "My client completed the PHQ-9 yesterday but the score isn't on the chart.",
            "The GAD-7 total shows 27 but the maximum is 21.",
            "The outcome questionnaire was never sent before the session.",
        ),
        (
            "It's the client I saw at {time}.",
            "Same thing with a second client now.",
            "I need the scores for a review on {day}.",
        ),
        ("measures", "questionnaires"),
        priority="high",
        clinical_share=0.7,
    ),
    Topic(
        CLINICIAN,
        "Client portal",
        (
            "Client didn't get the portal invite",
            "Client can't book online",
            "Portal invite went to an old address",
        ),
        (
            "One of my clients never received the portal invitation. I sent it twice.",
            "A client says the booking page shows no free slots, but I have plenty.",
            "The portal invite went to my client's old email address.",
        ),
        (
            "They checked spam, nothing.",
            "I corrected the address, should I resend?",
            "Works now, thank you.",
        ),
        ("portal",),
        confidential_share=0.3,
    ),
    Topic(
        CLINICIAN,
        "Privacy request",
        (
            "Delete a former client's records",
            "Subject access request from a client",
            "Data retention question",
        ),
        (
            "A former client asked us to delete everything we hold about them. How do I do "
            "that without losing my legal record-keeping duty?",
            "I received a subject access request. Can you help me produce the export?",
            "How long do you keep notes after I archive a client?",
        ),
        (
            "The request came in on {day}, so we have a month.",
            "My professional body says seven years for adults.",
            "Thanks, that's clear.",
        ),
        ("privacy", "gdpr"),
        confidential_share=0.6,
        clinical_share=0.2,
    ),
    Topic(
        CLINICIAN,
        "Video sessions",
        (
            "Video session keeps dropping",
            "Client can't hear me in video sessions",
            "Black screen in the video room",
        ),
        (
            "The video session dropped three times today. Clients are upset.",
            "My client can't hear me, I can hear them fine.",
            "The video room opens with a black screen on Safari.",
        ),
        (
            "I'm on the practice wifi, speed test is fine.",
            "Happened again at {time}.",
            "We switched to the phone in the end.",
        ),
        ("video",),
        priority="high",
    ),
)

ESCALATION_TOPICS = (
    Topic(
        ESCALATION,
        "App bug",
        (
            "Session notes missing after the update",
            "Notes saved but gone after reload",
            "Draft notes lost when the session timed out",
        ),
        (
            "After yesterday's update, two of my session notes are gone. This is serious.",
            "I saved my notes and they disappeared when I reloaded the page.",
            "The session timed out while I was writing and the draft is lost.",
        ),
        (
            "Please tell me they can be recovered.",
            "I wrote them on {day} around {time}.",
            "Any news from the engineers?",
        ),
        ("session-notes", "bug", "data-loss"),
        priority="urgent",
        clinical_share=0.5,
    ),
    Topic(
        ESCALATION,
        "Data export",
        (
            "Invoices duplicated in the accounting export",
            "Export to Xero fails",
            "CSV export has broken characters",
        ),
        (
            "The accounting export lists every invoice twice since {month}.",
            "The Xero export fails with 'unexpected error'.",
            "Accents in client names come out as garbage in the CSV export.",
        ),
        (
            "Our accountant needs it by {day}.",
            "Tried in another browser, same.",
            "Is there a workaround meanwhile?",
        ),
        ("export", "bug"),
    ),
)

CONCIERGE_TOPICS = (
    Topic(
        CONCIERGE,
        "Dining",
        (
            "Table in {city} for friends",
            "Dinner for {party} on {day}",
            "Table at {vendor}",
        ),
        (
            "In {city} on {day}, need a table for me and my friends.",
            "Dinner for {party} on {day} around {time}. Somewhere with a view.",
            "Can you get us into {vendor} on {day}? {party} people.",
        ),
        (
            "Make it {party} now, my sister is coming.",
            "Outside if possible.",
            "Perfect, thank you!",
            "Any news?",
        ),
        ("dining", "reservation"),
        vendor_category="restaurant",
    ),
    Topic(
        CONCIERGE,
        "Hotels",
        (
            "Late checkout on {day}",
            "Room upgrade at {vendor}",
            "Extend the stay in {city}",
        ),
        (
            "Can you get me a late checkout on {day}? Flight is at {time}.",
            "We arrive at {vendor} on {day}. Anything with a sea view?",
            "I want to stay two more nights in {city}.",
        ),
        (
            "4pm would be ideal.",
            "Same room if possible.",
            "Great, thanks.",
        ),
        ("hotel",),
        vendor_category="hotel",
    ),
    Topic(
        CONCIERGE,
        "Transport",
        (
            "Airport transfer on {day}",
            "Car to the airport at {time}",
            "Driver for the day in {city}",
        ),
        (
            "Need a car from the airport on {day}, landing at {time}.",
            "Car to the airport tomorrow at {time}, {party} of us with luggage.",
            "A driver for the whole day in {city} on {day}, please.",
        ),
        (
            "Flight is delayed by an hour.",
            "Big car please, we have skis.",
            "Driver found us, thanks.",
        ),
        ("transport",),
        priority="high",
        vendor_category="car service",
    ),
    Topic(
        CONCIERGE,
        "Gifts",
        (
            "Birthday flowers for {day}",
            "Flowers to {city}",
        ),
        (
            "Flowers for my mother's birthday on {day}, delivered in {city}. Something lovely.",
            "Can you send flowers to a friend in {city}? Card says 'congratulations'.",
        ),
        (
            "No lilies, she's allergic.",
            "Can you send me a photo before it goes out?",
            "She loved them.",
        ),
        ("gifts",),
        vendor_category="florist",
    ),
    Topic(
        CONCIERGE,
        "Experiences",
        (
            "Boat for the day in {city}",
            "Tickets for {day}",
        ),
        (
            "We'd like a boat for the day in {city} on {day}, {party} guests.",
            "Two tickets for the show on {day}, good seats.",
        ),
        (
            "With a skipper, and lunch on board.",
            "Aisle seats if possible.",
            "Lovely, thank you.",
        ),
        ("experience",),
        vendor_category="yacht charter",
    ),
    Topic(
        CONCIERGE,
        "Health",
        (
            "Doctor appointment in {city}",
            "Need a clinic nearby in {city}",
        ),
        (
            "My son has a fever, we're in {city}. Can you find a doctor who speaks English today?",
            "I need a dentist in {city} as soon as possible, I broke a crown.",
        ),
        (
            "We can be there in 30 minutes.",
            "Please send the address on WhatsApp.",
            "Thank you so much, he's better.",
        ),
        ("health",),
        priority="urgent",
        confidential_share=0.7,
        vendor_category="clinic",
    ),
)

AGENT_FIRST_REPLIES = {
    CLINICIAN: (
        "Hi {first}, thanks for letting us know. I'm looking into it now and will come back "
        "to you before your next session.\n\n{agent}",
        "Hello {first}, sorry about this. Could you tell me which device and app version "
        "you're on?\n\n{agent}",
        "Hi {first}, I've picked this up. I'll keep you posted here.\n\n{agent}",
    ),
    CONCIERGE: (
        "Good evening {first}, leave it with me. I'll come back with options shortly.\n{agent}",
        "Hello {first}, on it. Any preference for the time?\n{agent}",
        "Hi {first}, noted. I'm calling them now.\n{agent}",
    ),
}
AGENT_REPLIES = {
    CLINICIAN: (
        "Thanks {first}. I've reproduced it on our side and passed it on; I'll update you "
        "by {day}.\n\n{agent}",
        "Hi {first}, could you try signing out and back in, then tell me if it happens "
        "again?\n\n{agent}",
        "Hello {first}, a quick update: we've found the cause and a fix is being tested.\n\n"
        "{agent}",
        "Hi {first}, I've sent the instructions to the address on your account.\n\n{agent}",
    ),
    CONCIERGE: (
        "{first}, {vendor} can do {time} on {day}. Shall I confirm?\n{agent}",
        "Still waiting for {vendor} to confirm, I'll chase them this afternoon.\n{agent}",
        "All confirmed for {day} at {time}. Details are on their way.\n{agent}",
        "Small change: {vendor} needs a card to hold it. Shall I use the one on file?\n{agent}",
    ),
}
AGENT_ASKS = {
    CLINICIAN: (
        "Hi {first}, could you send a screenshot of what you see? Please leave out any "
        "client names.\n\n{agent}",
        "Hello {first}, which email address is on your account?\n\n{agent}",
    ),
    CONCIERGE: (
        "{first}, would {time} or a little later suit you better?\n{agent}",
        "{first}, how many guests in the end?\n{agent}",
    ),
}
AGENT_SOLUTIONS = {
    CLINICIAN: (
        "Hi {first}, the fix is live. Please update the app and let me know if anything is "
        "still wrong.\n\n{agent}",
        "Hello {first}, all done on our side. I'll close this now; just reply if you need "
        "anything else.\n\n{agent}",
        "Hi {first}, your account is sorted. Sorry for the disruption to your day.\n\n{agent}",
    ),
    CONCIERGE: (
        "{first}, everything is confirmed for {day} at {time}. Enjoy!\n{agent}",
        "All set, {first}. The confirmation is in your inbox.\n{agent}",
        "Done: {vendor} has you down for {day}. Have a wonderful time.\n{agent}",
    ),
}
NOTES = {
    CLINICIAN: (
        "Reproduced on iPad, app 4.12: care pathway spins forever when the client has more "
        "than 40 measures.",
        "Customer is a premium practice; session at {time} tomorrow, keep them updated.",
        "Checked the logs: three failed logins then a lock. Identity confirmed by phone.",
        "Do not paste client names in replies, the clinician sent some by mistake.",
    ),
    CONCIERGE: (
        "Client prefers WhatsApp, no calls before 10am.",
        "{vendor} asked for a deposit, card on file authorised up to the usual limit.",
        "VIP: always confirm in writing, never by voicemail.",
        "Backup option if {vendor} falls through: ask the hotel's concierge desk.",
    ),
}
ESCALATION_NOTES = (
    "Steps to reproduce:\n1. Open a client with 40+ measures\n2. Open the care pathway\n"
    "3. Spinner never stops.\nExpected: pathway loads. Actual: frozen, console shows a 500 "
    "from /api/pathways.",
    "Escalating to engineering: data may be lost. Steps: write a note, wait for the session "
    "to time out, reload. Draft is gone. Happens on {day} builds.",
    "Engineering ticket opened with logs attached; clinician has sessions tomorrow at {time}.",
)
ON_HOLD_NOTES = (
    "Waiting for the engineering fix before replying again.",
    "On hold until the next release; customer informed.",
    "Parked until the client's trip dates are confirmed.",
)
VENDOR_OUTBOUND = {
    "phone": (
        "Called {vendor}: asked for {party} people on {day} at {time}. They will call back.",
        "Phoned {vendor}, spoke to the manager. Waiting for confirmation.",
        "Call to {vendor}: explained the request, they're checking availability.",
    ),
    "email": (
        "Hello,\n\nOn behalf of our client, could you hold {party} places on {day} at {time}?"
        "\n\nKind regards,\n{agent}",
        "Hello, following our call, could you confirm the booking for {day} in writing?\n\n{agent}",
    ),
    "whatsapp": (
        "Hi, it's {agent} from the concierge team. Can you do {day} at {time}?",
        "Hello again, any news for {day}?",
    ),
}
VENDOR_INBOUND = {
    "phone": (
        "{vendor} called back: confirmed for {day} at {time}.",
        "{vendor} called: fully booked at {time}, can offer an hour later.",
    ),
    "email": (
        "Dear {agent},\n\nWe are pleased to confirm for {day} at {time}.\n\nBest regards,\n"
        "{vendor}",
        "Hello, unfortunately we are full on {day}. We could offer the following day.\n\n{vendor}",
    ),
    "whatsapp": (
        "Confirmed 👍 {day} {time}",
        "Sorry, full that day. Next day ok?",
    ),
}
CUSTOMER_NUDGES = (
    "Any update on this?",
    "Hello? Still waiting.",
    "Just checking you got my message.",
)
CUSTOMER_REOPENS = (
    "It's happening again, sorry.",
    "Actually one more thing on this.",
    "This isn't fixed, same problem today.",
)
CUSTOMER_THANKS = (
    "Thank you!",
    "Great, thanks for your help.",
    "Perfect.",
)

CITIES = (
    "Antigua",
    "Mykonos",
    "Saint-Tropez",
    "London",
    "Paris",
    "Courchevel",
    "Dubai",
    "New York",
    "Milan",
    "Ibiza",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TIMES = ("8am", "9:30", "11am", "1pm", "3pm", "5:30pm", "7pm", "8pm", "9pm")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")

PRACTICE_NAMES = (
    "Northgate Psychology Practice",
    "Harbour Lane Therapy",
    "Riverside Child & Family Service",
    "Elm Street Psychologists",
    "Mindful Steps Clinic",
    "Beacon Counselling Centre",
    "Oakwood Psychological Services",
    "Clearwater Therapy Rooms",
    "Willow House Practice",
    "Meadow Psychology Group",
    "Southbank Trauma Clinic",
    "Hillcrest Neuropsychology",
    "Kingsway CBT Centre",
    "Lakeside Wellbeing Practice",
    "Greenfield Eating Disorders Service",
    "Brightwater Perinatal Psychology",
)
VIP_HOUSEHOLDS = (
    "Private clients",
    "Ashcombe Family Office",
    "Belvedere Members",
    "Cavendish Private Office",
    "Marlowe Household",
    "Orion Family Office",
)
THIRD_PARTIES = {
    "restaurant": (
        "Harbour View Restaurant",
        "Le Bleu Beach Club",
        "Casa Sal Grill",
        "The Sugar Mill Terrace",
        "Osteria del Porto",
        "Nobu-style Omakase Bar",
    ),
    "hotel": (
        "Blue Waters Hotel",
        "Grand Hotel du Lac",
        "The Palm Suites",
        "Hotel Santa Croce",
    ),
    "car service": (
        "Island Executive Cars",
        "Capital Chauffeurs",
        "Riviera Transfers",
    ),
    "florist": ("Petals & Stems", "Maison des Fleurs"),
    "yacht charter": ("Azure Yacht Charters", "Harbour Sailing Co."),
    "clinic": ("Bayside Medical Clinic", "International Family Clinic", "Smile Dental Studio"),
}
