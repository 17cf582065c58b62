"""The small library that every stage script shares."""
