"""Accounts: users, their role and area, login and passwords."""
