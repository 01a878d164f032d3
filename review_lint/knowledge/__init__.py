"""Shared knowledge any rule can ask (handlers, databases, control paths, ...)."""
