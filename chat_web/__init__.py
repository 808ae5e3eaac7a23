"""The Reflex web app: pages, components and thin states over the backend services."""
