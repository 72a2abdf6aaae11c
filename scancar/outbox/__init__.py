"""Store-and-forward of suspects: a durable SQLite outbox on the car and its HTTP uploader."""
