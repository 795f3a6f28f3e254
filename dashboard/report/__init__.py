"""The district review report: one district, one calendar month, as a print page (HTML), a PDF and a PNG.

``month`` parses and offers the months; ``content`` assembles the numbers from ``dashboard.data`` and the map from
``dashboard.figures``; ``page`` renders the print page; ``chromium`` prints it with headless Chromium. The route
lives in ``dashboard.api.report``, the control on the district page in ``dashboard.pages.district_report``.

Kept free of imports here: ``dashboard.i18n`` imports ``dashboard.report.strings`` while it loads.
"""
