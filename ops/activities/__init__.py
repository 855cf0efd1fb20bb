"""The operations activities: every step that touches the database, files, the
container platform or Telegram. Registered on the ops worker (`ops.worker`)."""
