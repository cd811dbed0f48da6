"""AceFarm's trainer clients (the AceCoder pipeline). Not built yet: see the issue tracker."""

__all__: list[str] = []
