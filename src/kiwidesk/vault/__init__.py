"""Encryption at rest: the cipher, the keys, and the model field and file storage that use them."""
