"""The shop's gateway: orders and refunds a shop posts over HTTPS, put on the bus as the same
OrderPlaced.v1 / OrderRefunded.v1 events a shop that can call EventBridge sends (decision 86)."""
