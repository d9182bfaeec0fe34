"""Interfaces (typing.Protocol) the use cases need from the outside world."""
