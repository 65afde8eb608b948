"""The monthly report (月度通报): figures, rankings, map and charts of one month, as PDF, xlsx or HTML.

`data.build` gathers the month from the assessment engine and the ticket table; `charts` draws
greyscale-safe SVG charts with matplotlib; `document` renders one self-contained HTML page that
WeasyPrint turns into the PDF; `workbook` writes the same tables to xlsx.
"""
