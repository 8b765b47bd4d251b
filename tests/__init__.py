"""Tests of the Wildix integration."""
