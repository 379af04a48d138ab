"""The data layer: the only modules that read or write DynamoDB; one repository per aggregate,
returning the models of ``models/`` (``repositories.Repositories`` holds them all on one table)."""
