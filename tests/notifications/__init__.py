"""Tests of Web Push notifications: the fake push service, subscriptions, outbox and worker."""
