"""The data layer: the only modules that read or write DynamoDB."""
