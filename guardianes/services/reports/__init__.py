"""Reports for the comptroller: evidence reports and their e-mail, briefings, analyses, exports.

Each module takes an explicit session; all SQL lives in `storage/repositories/reports.py`
and `storage/repositories/evidence_emails.py`.
"""
