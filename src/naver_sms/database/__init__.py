"""State: the BookingStore / SessionStore ports and their DynamoDB and SQLite adapters."""
