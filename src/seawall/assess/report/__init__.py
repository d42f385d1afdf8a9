"""Reports: charts, HTML and PDF documents, and CSV/JSON exports of assessments."""
