"""State: the booking and session repository ports and their DynamoDB and SQLite adapters."""
