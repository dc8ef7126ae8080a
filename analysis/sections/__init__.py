"""The report's sections: each adds headings, figures and tables for one statistic or one
paper experiment, and adds nothing when its rows are absent.

Every section takes the `ReportWriter` (`sections/writer.py`) and the rows it needs,
already scoped to one experiment and setting where that applies; `analysis/report.py` and
`analysis/publish.py` choose which sections run, in which order.
"""
