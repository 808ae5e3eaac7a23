"""The product's rules: each service checks its input and authorization, stores, then publishes."""
