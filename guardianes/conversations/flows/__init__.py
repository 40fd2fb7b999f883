"""The conversation's flows, one module each, every step of them routed by `dispatch`."""
