"""SMTP submission (aiosmtplib is used here and nowhere else)."""
