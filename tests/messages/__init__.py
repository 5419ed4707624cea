"""Tests of eintegr.messages."""
