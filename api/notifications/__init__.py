"""Web Push notifications: subscriptions, a transactional outbox and its delivery worker
(docs/notifications.md)."""
