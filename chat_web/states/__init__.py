"""Thin Reflex states: who the user is, forms, the chat list, the open conversation, live events."""
