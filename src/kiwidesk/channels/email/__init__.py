"""The email channel: parse raw mail into an InboundMessage, and import mailboxes."""
