"""One router per resource of the staff API (and the public Open311 one)."""
