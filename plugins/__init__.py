"""The user zone: tools, workflows, interfaces and scratch scripts (the seed's app/private)."""
