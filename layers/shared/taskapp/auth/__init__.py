"""Authentication primitives: password hashing, JWT access tokens, opaque refresh tokens and revocation."""
