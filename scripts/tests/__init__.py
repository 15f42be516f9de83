"""Unit tests of the lab tool (standard-library unittest; selftest's static step runs them)."""
