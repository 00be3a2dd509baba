"""Domain logic: what the product does, independent of API Gateway, Lambda or the transport that called it."""
